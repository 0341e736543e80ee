"""`python -m moresprudentie` is the same as the `moresprudentie` command."""

from moresprudentie.cli.main import main

main()
