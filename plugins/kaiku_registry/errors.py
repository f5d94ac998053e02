"""The error every rule of the card raises when it refuses a request."""


class RuleError(ValueError):
    """A request the card's rules refuse; ``code`` is stable, the message says why in plain words (a
    translation string of the registry's domain where a person may read it; ``str()`` gives it in English)."""

    def __init__(self, code, message):
        super().__init__(message.interpolate() if hasattr(message, 'interpolate') else message)
        self.code = code
        self.message = message
