from tests.functional.web.apps import client_for, make_app

__all__ = ["client_for", "make_app"]
