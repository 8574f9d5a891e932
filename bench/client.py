"""Signing a staff member in over http, both factors, as a browser would: shared by the runner's
latency loops (requests) and the load test (locust's HttpSession, a requests.Session)."""

import re

from django_otp.oath import totp

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SIGN_IN = "/access/sign-in/"
CODE = "/access/sign-in/code/"


class SignInFailed(RuntimeError):
    pass


def current_code(key_hex: str) -> str:
    """The authenticator app's code now, from the device's hex key (django_otp's TOTP)."""
    return "%06d" % totp(bytes.fromhex(key_hex), step=30, t0=0, digits=6, drift=0)


def _token(session, base_url: str, path: str, **kwargs) -> str:
    response = session.get(base_url + path, **kwargs)
    match = CSRF_INPUT.search(response.text)
    if response.status_code != 200 or match is None:
        raise SignInFailed("no form at %s (status %s)" % (path, response.status_code))
    return match.group(1)


def sign_in(session, base_url: str, *, username: str, password: str, key_hex: str, **kwargs):
    """Password, then the authenticator code. kwargs go to every request (locust's name=)."""
    token = _token(session, base_url, SIGN_IN, **kwargs)
    response = session.post(
        base_url + SIGN_IN,
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        **kwargs,
    )
    if CODE not in response.url:
        raise SignInFailed(
            "the password step did not lead to the code (status %s)" % response.status_code
        )
    token = _token(session, base_url, CODE, **kwargs)
    response = session.post(
        base_url + CODE,
        data={"code": current_code(key_hex), "csrfmiddlewaretoken": token},
        **kwargs,
    )
    if response.status_code != 200 or "/sign-in/" in response.url:
        raise SignInFailed("the code was refused (status %s)" % response.status_code)
    return response
