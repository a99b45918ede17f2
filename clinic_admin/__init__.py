"""The clinic staff's admin site: the site class (clinic time on every page, the Reports page)
and the pages of its own. Each app registers its models in its own `admin.py`, with the base
classes of `core.admin`."""
