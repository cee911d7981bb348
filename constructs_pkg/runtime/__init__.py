"""Stdlib-only runtime code for Amazon Chime SDK PSTN audio (SIP media application) Lambdas.

This folder is shipped as-is as the Lambda asset (handler string
``runtime.handler.handler``) and is also importable by users as
``constructs_pkg.runtime``. It therefore uses relative imports only and must
stay free of third-party dependencies and of anything slow to import.
"""
