"""Web plumbing shared by every domain: templates, middleware, CSRF, auth and error pages."""
