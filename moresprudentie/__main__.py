"""`python -m moresprudentie` is the same as the `moresprudentie` command."""

from .cli import main

main()
