from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.backends import BaseBackend

from traveler.core.models import User


class EmailBackend(BaseBackend):
    """Email and password; inactive users cannot sign in."""

    def authenticate(self, request, email=None, password=None, **kwargs):
        email = email or kwargs.get("username")
        if not email or not password:
            return None
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and user.is_active:
            return user
        return None

    def get_user(self, user_id):
        return User.objects.filter(pk=user_id, is_active=True).first()


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(s.strip(), strict=False) for s in spec if s.strip())


def _trusted(addr: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(addr.strip())
    except ValueError:
        return False
    return any(ip in n for n in networks)


def client_ip(request) -> str | None:
    """The address of the client that sent ``request``.

    ``X-Forwarded-For`` is believed only when the request comes from a configured proxy
    (``TRAVELER_TRUSTED_PROXIES``), and only as far as the chain runs through trusted proxies:
    the first address from the right that is not a trusted proxy is the client. Anyone else can
    write any value into that header, so it would let a client pick its own throttle key.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    networks = _networks(tuple(settings.TRAVELER_TRUSTED_PROXIES))
    if not remote or not networks or not _trusted(remote, networks):
        return remote
    chain = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    for addr in reversed(chain):
        if not _trusted(addr, networks):
            try:
                return str(ipaddress.ip_address(addr))
            except ValueError:
                return remote  # garbage in the header: fall back to the proxy's own address
    return chain[0] if chain else remote
