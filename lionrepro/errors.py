"""A mistake in what the user asked for (an unknown profile, a GPU where there is none): the command line answers it
with one line saying what is wrong and what to do, never with a traceback."""


class UserError(ValueError):
    """Raised for a request that cannot be met as asked; its message says what to do instead."""
