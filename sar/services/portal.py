"""Rights-request workflows: portal."""
