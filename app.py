"""`streamlit run app.py` from a checkout: the app itself lives in moresprudentie/ui/app.py.

The product card keeps an app.py at the top level; `moresprudentie app` runs the packaged router
directly, so an installed package needs no checkout.
"""

from moresprudentie.ui.app import main

main()
