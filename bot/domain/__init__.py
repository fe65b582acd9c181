"""Pure domain logic: no discord, no sqlalchemy, no I/O."""
