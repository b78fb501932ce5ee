"""The few style sheets the app uses, in one place."""

ERROR_STYLE = ("QLabel { background: #fde8e8; color: #8a1c1c; border: 1px solid #f3b4b4;"
               " border-radius: 6px; padding: 8px; }")
INFO_STYLE = ("QLabel { background: #e8f0fd; color: #1c3d8a; border: 1px solid #b4c8f3;"
              " border-radius: 6px; padding: 8px; }")
