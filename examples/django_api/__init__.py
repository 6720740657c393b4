"""The example "platform API" as a tiny Django REST framework project (see ``settings``)."""
