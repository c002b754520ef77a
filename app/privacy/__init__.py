"""A member's own data: the export of everything they wrote, and deleting their account.

It sits above every domain (it reads and anonymises what each of them stores about a person),
as `app.demo` does; the profile page and `/api/v1/me` call it.
"""
