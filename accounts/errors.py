class DomainError(Exception):
    """A business rule refused an action; ``message`` is translated and shown to the user.

    Services raise it; views put the message back into the form (or a flash message).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConcurrentEditError(DomainError):
    """Someone saved the record since it was read (optimistic locking on ``version``)."""
