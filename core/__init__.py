"""The bottom floor: small building blocks with no models, used by every app above.

Nothing here imports an app of this project (accounts, sso, oauth, wellknown) or identity/."""
