"""The one error type the user sees: everything else is a bug."""


class UserError(Exception):
    """Something the user can fix (a wrong file, a missing model); str(error) is the message."""


class ModelError(UserError):
    """A model file could not be found or used."""


class ImageError(UserError):
    """A photo could not be used; str(error) is the message to show the user."""
