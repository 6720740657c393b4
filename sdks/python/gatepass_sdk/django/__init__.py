"""Gatepass for Django (the ``django`` extra).

- ``gatepass_sdk.django.middleware``: ``GatepassMiddleware`` checks every request's credential
  and sets ``request.gatepass_caller``; ``@requires("nql")`` guards a function view.
- ``gatepass_sdk.django.rest_framework``: ``GatepassAuthentication``, ``HasGatepassCredential``
  and ``RequiresPermissions("nql")`` for Django REST framework views.

Both read ``settings.GATEPASS`` (``gatepass_sdk.django.conf``). Nothing is imported here, so
that a project with Django alone can use the middleware without Django REST framework.
"""
