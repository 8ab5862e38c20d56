"""The outside world: mail and robot delivery, scheduler, file store, holidays, password hashing."""
