"""`manage.py restore_check`: a restored copy whose values and files all open passes; a value or
file the keys do not open, or a missing file, fails naming the row and never the value."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from tests import factories
from tests.tmo.test_rotate_keys import set_raw, upload
from tmo import filestore

pytestmark = pytest.mark.django_db
KEY_UNKNOWN = Fernet.generate_key().decode()


def check() -> str:
    out = StringIO()
    call_command("restore_check", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_sound_copy_passes_and_counts_what_it_opened():
    person = factories.PersonFactory(phone="07700 900321")
    upload(person)
    out = check()
    assert "Encrypted files opened: 1." in out
    assert "The restored copy opens" in out
    assert "07700 900321" not in out


def test_a_value_under_a_missing_key_fails_naming_the_row_not_the_value():
    good, bad = factories.PersonFactory.create_batch(2)
    set_raw(bad, "phone", Fernet(KEY_UNKNOWN).encrypt(b'"07700 900999"').decode())
    with pytest.raises(CommandError) as failure:
        check()
    message = str(failure.value)
    assert "records.Person pk=%s field 'phone' does not open" % bad.pk in message
    assert "pk=%s " % good.pk not in message
    assert "900999" not in message


def test_a_missing_or_foreign_file_fails():
    person = factories.PersonFactory()
    missing, foreign = upload(person), upload(person, b"second")
    filestore.delete(missing.storage_name)
    filestore.write_token(foreign.storage_name, Fernet(KEY_UNKNOWN).encrypt(b"not ours"))
    with pytest.raises(CommandError) as failure:
        check()
    message = str(failure.value)
    assert "records.Document pk=%s: its file is missing" % missing.pk in message
    assert "records.Document pk=%s: its file does not open" % foreign.pk in message
    assert "2 checks" in message
