from django import template

register = template.Library()


@register.filter
def has_any(roles, names: str) -> bool:
    """True if the user's roles include any of the comma-separated role names."""
    return bool(set(roles) & {name.strip() for name in names.split(",")})
