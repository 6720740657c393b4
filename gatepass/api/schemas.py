"""The documents of the management API, as pydantic models (and so as OpenAPI schemas).

The ``of`` constructors are the one place where stored rows become what callers see; the CLI's
``--json`` output uses them too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from gatepass import text
from gatepass.apikeys.kind import API_KEY
from gatepass.apikeys.models import ApiKey
from gatepass.audit.models import AuditEvent
from gatepass.clients.kind import CLIENT
from gatepass.clients.models import OAuthClient
from gatepass.credentials import grace, lifecycle, rules
from gatepass.credentials import policy as policies
from gatepass.credentials.lifecycle import MAX_GRACE
from gatepass.db import utcnow
from gatepass.federation import rules_summary
from gatepass.groups.models import ClientGroup
from gatepass.permissions.models import Permission
from gatepass.tenants.models import Tenant
from gatepass.tenants.service import MAX_LIFETIME, MIN_LIFETIME
from gatepass.users.models import User

T = TypeVar("T")

FIRST_YEAR = 2000
LAST_YEAR = 8999


def _in_range(value: datetime) -> datetime:
    # The year as written, so that the document can say it with a pattern.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR} to {LAST_YEAR}")
    return value.astimezone(UTC)


# A point in time with its UTC offset, e.g. 2027-01-31T00:00:00Z.
When = Annotated[
    AwareDatetime,
    AfterValidator(_in_range),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": "^[2-8][0-9]{3}-",
            "description": f"RFC 3339, with its UTC offset, in the years {FIRST_YEAR}-{LAST_YEAR}.",
        }
    ),
]
# One line of text: no control characters (the one rule of gatepass.text).
Line = Annotated[str, StringConstraints(pattern=text.LINE_PATTERN)]
# Text that may span lines.
Paragraph = Annotated[str, StringConstraints(pattern=text.PARAGRAPH_PATTERN)]
Name = Annotated[Line, StringConstraints(min_length=1, max_length=rules.MAX_NAME)]
Description = Annotated[Paragraph, StringConstraints(max_length=rules.MAX_DESCRIPTION)]
# The services' own rules for names, stated here so that the document says what is accepted.
# Group names and emails may come with spaces around them: the services strip them.
_SPACES = r"[^\S\x00-\x1f\x7f-\x9f\u2028\u2029]*"
_ADDRESS = r"[^@\s\x00-\x1f\x7f-\x9f]"
Scope = Annotated[str, StringConstraints(max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
GroupName = Annotated[str, StringConstraints(max_length=100, pattern=rf"^{_SPACES}\w[\w .:/-]*$")]
Email = Annotated[
    str,
    StringConstraints(
        max_length=320,
        pattern=rf"^{_SPACES}{_ADDRESS}{{1,64}}@{_ADDRESS}{{1,255}}\.{_ADDRESS}{{2,}}{_SPACES}$",
    ),
]
Role = Literal["admin", "credentials_manager", "viewer"]


# An IPv4 or IPv6 address or CIDR range (the services normalise and check it).
IpRange = Annotated[
    str, StringConstraints(max_length=49, pattern=r"^[0-9A-Fa-f.:]+(/[0-9]{1,3})?$")
]


def allowed_ips_field() -> Any:
    """The ``allowed_ips`` field of a new credential."""
    return Field(
        default_factory=list,
        max_length=rules.MAX_ALLOWED_IPS,
        description="Addresses or CIDR ranges it may be used from; empty: anywhere.",
    )


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


# --- tenant settings -------------------------------------------------------------------------


class RateLimitSpec(Input):
    limit: int = Field(ge=1, le=rules.MAX_RATE_LIMIT, description="Requests allowed per period.")
    period: int = Field(ge=1, le=rules.MAX_RATE_PERIOD, description="Seconds.")


class CredentialPolicyBody(Input):
    """What every OAuth client and API key of the tenant must be; enforced when one is created,
    edited or given a new secret."""

    max_lifetime_days: int | None = Field(
        default=None, ge=1, le=policies.MAX_LIFETIME_DAYS, description="Must expire within."
    )
    expiry_required: bool = Field(default=False, description="Must have an expiry date.")
    default_rate_limit: RateLimitSpec | None = Field(
        default=None, description="Given to a new API key created without a rate limit."
    )
    allowed_ips: list[IpRange] = Field(
        default_factory=list,
        max_length=rules.MAX_ALLOWED_IPS,
        description="Credentials may be used from inside these ranges only; a new one without"
        " an allowlist gets them.",
    )
    leak_action: Literal["revoke", "suspend"] = Field(
        default="revoke",
        description="What a report of a leaked secret does to the credential whose current"
        " secret it is: `revoke` (final) or `suspend` (until an administrator resumes it).",
    )
    dormant_after_days: int | None = Field(
        default=None,
        ge=policies.DORMANT_DAYS[0],
        le=policies.DORMANT_DAYS[1],
        description="Unused for this long, a credential is dormant: its creator, owner and the"
        " tenant's admins are told once.",
    )
    auto_suspend_dormant: bool = Field(
        default=False, description="Suspend dormant credentials (needs `dormant_after_days`)."
    )

    @classmethod
    def of(cls, stored: dict[str, Any]) -> CredentialPolicyBody:
        policy = policies.CredentialPolicy.of(stored)
        rate = None
        if policy.default_rate_limit is not None and policy.default_rate_period is not None:
            rate = RateLimitSpec(limit=policy.default_rate_limit, period=policy.default_rate_period)
        return cls(
            max_lifetime_days=policy.max_lifetime_days,
            expiry_required=policy.expiry_required,
            default_rate_limit=rate,
            allowed_ips=list(policy.allowed_ips),
            leak_action="suspend" if policy.leak_action == "suspend" else "revoke",
            dormant_after_days=policy.dormant_after_days,
            auto_suspend_dormant=policy.auto_suspend_dormant,
        )

    def stored(self) -> dict[str, Any]:
        rate = self.default_rate_limit
        return policies.CredentialPolicy(
            max_lifetime_days=self.max_lifetime_days,
            expiry_required=self.expiry_required,
            default_rate_limit=rate.limit if rate else None,
            default_rate_period=rate.period if rate else None,
            allowed_ips=tuple(self.allowed_ips),
            leak_action=self.leak_action,
            dormant_after_days=self.dormant_after_days,
            auto_suspend_dormant=self.auto_suspend_dormant,
        ).stored()


class TrustedIssuerBody(BaseModel):
    """An external issuer the tenant trusts (workload identity federation)."""

    model_config = ConfigDict(extra="forbid")

    issuer: Annotated[str, StringConstraints(max_length=500)] = Field(
        description="The `iss` of its tokens, e.g. https://token.actions.githubusercontent.com."
    )
    name: Annotated[str, StringConstraints(max_length=100)] = ""
    jwks_uri: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        default=None,
        description="Where its public keys are; default: found through its discovery document.",
    )
    jwks: dict[str, Any] | None = Field(
        default=None,
        description="Instead: its public keys, for an issuer Gatepass cannot reach (a private"
        " Kubernetes cluster: `kubectl get --raw /openid/v1/jwks`).",
    )


class FederationRuleBody(BaseModel):
    """Which tokens of a trusted issuer authenticate the client."""

    model_config = ConfigDict(extra="forbid")

    issuer: Annotated[str, StringConstraints(max_length=500)] = Field(
        description="One of the tenant's trusted issuers."
    )
    subject: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="The token's exact `sub`, e.g. `repo:acme/app:environment:prod` or"
        " `system:serviceaccount:payments:sync`."
    )
    audience: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None,
        description="The `aud` the token must carry; default: the tenant's issuer URL or its"
        " token endpoint.",
    )
    claims: dict[str, str | list[str]] = Field(
        default_factory=dict,
        max_length=10,
        description="More claims the token must have, each one of the values listed (exact).",
    )


def dumped(items: Sequence[BaseModel] | None) -> list[dict[str, Any]] | None:
    """Bodies as the services take them: plain dicts."""
    return None if items is None else [item.model_dump() for item in items]


class TenantOut(BaseModel):
    slug: str
    name: str
    issuer: str
    token_endpoint: str
    token_lifetime: int = Field(description="Access-token lifetime in seconds.")
    audience: str = Field(description="The `aud` of tokens issued without `resource`.")
    allowed_audiences: list[str]
    signing_alg: Literal["ES256", "RS256", "EdDSA"]
    created_at: datetime
    credential_policy: CredentialPolicyBody
    trusted_issuers: list[TrustedIssuerBody] = Field(
        default_factory=list,
        description="External issuers (GitHub Actions, a Kubernetes cluster, ...) whose tokens"
        " a client's federation rules may accept.",
    )
    require_dpop_nonce: bool = Field(
        default=False,
        description="Whether a DPoP proof must carry a server nonce (RFC 9449 §8).",
    )
    token_exchange_lifetime: int | None = Field(
        default=None,
        description="Token exchange (RFC 8693): the longest an exchanged token lives, in"
        " seconds; null: token exchange is off.",
    )

    @classmethod
    def of(cls, tenant: Tenant, public_url: str) -> TenantOut:
        issuer = f"{public_url}/realms/{tenant.slug}"
        return cls(
            slug=tenant.slug,
            name=tenant.name,
            issuer=issuer,
            token_endpoint=f"{issuer}/protocol/openid-connect/token",
            token_lifetime=tenant.token_lifetime,
            audience=tenant.audience,
            allowed_audiences=list(tenant.allowed_audiences),
            signing_alg=tenant.signing_alg,
            created_at=tenant.created_at,
            credential_policy=CredentialPolicyBody.of(tenant.credential_policy),
            trusted_issuers=[TrustedIssuerBody(**item) for item in tenant.trusted_issuers],
            require_dpop_nonce=tenant.require_dpop_nonce,
            token_exchange_lifetime=tenant.token_exchange_lifetime,
        )


# An absolute URI without a fragment.
Audience = Annotated[
    str,
    StringConstraints(max_length=500, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20\x7f#]*$"),
]


class TenantPatch(Input):
    name: Name | None = None
    token_lifetime: int | None = Field(default=None, ge=MIN_LIFETIME, le=MAX_LIFETIME)
    audience: Audience | None = None
    allowed_audiences: list[Audience] | None = Field(default=None, min_length=1, max_length=50)
    signing_alg: Literal["ES256", "RS256", "EdDSA"] | None = Field(
        default=None, description="Changing it rotates the signing key."
    )
    credential_policy: CredentialPolicyBody | None = Field(
        default=None, description="Replaces the credential policy (`{}`: none)."
    )
    trusted_issuers: list[TrustedIssuerBody] | None = Field(
        default=None,
        max_length=20,
        description="Replaces the trusted issuers (`[]`: none). A client's federation rules"
        " naming an issuer removed here stop matching at once.",
    )
    require_dpop_nonce: bool | None = Field(
        default=None,
        description="Require a server nonce in DPoP proofs: a proof without the current one is"
        " answered `use_dpop_nonce` with a `DPoP-Nonce` header (RFC 9449 §8).",
    )
    token_exchange_lifetime: int | None = Field(
        default=None,
        ge=0,
        le=3600,
        description="Allow token exchange (RFC 8693): an access token of this tenant is"
        " exchanged for a narrower one living at most this many seconds (30-3600); 0 turns"
        " it off.",
    )


# --- permissions and groups ------------------------------------------------------------------


class PermissionOut(BaseModel):
    name: str = Field(description="The OAuth scope.")
    label: str
    description: str
    available: bool
    unavailable_reason: str
    builtin: bool

    @classmethod
    def of(cls, permission: Permission) -> PermissionOut:
        return cls(
            name=permission.name,
            label=permission.label,
            description=permission.description,
            available=permission.available,
            unavailable_reason=permission.unavailable_reason,
            builtin=permission.builtin,
        )


class PermissionIn(Input):
    name: Scope
    label: Name | None = None
    description: Description = ""


class PermissionPatch(Input):
    label: Name | None = None
    description: Description | None = None


class GroupOut(BaseModel):
    name: str

    @classmethod
    def of(cls, group: ClientGroup) -> GroupOut:
        return cls(name=group.name)


class GroupIn(Input):
    name: GroupName


# --- OAuth clients ---------------------------------------------------------------------------


class SecretVersionOut(BaseModel):
    hint: str = Field(description="Prefix and last four characters, for recognition only.")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    active: bool

    @classmethod
    def all_of(cls, versions: Any, now: datetime) -> list[SecretVersionOut]:
        return [
            cls(
                hint=s.hint,
                created_at=s.created_at,
                expires_at=s.expires_at,
                last_used_at=s.last_used_at,
                active=s.expires_at is None or s.expires_at > now,
            )
            for s in versions
        ]


class ClientOut(BaseModel):
    client_id: str
    name: str
    description: str
    scopes: list[str]
    groups: list[str]
    status: Literal["active", "expired", "suspended", "revoked"]
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    token_lifetime: int | None
    allowed_ips: list[str]
    secrets: list[SecretVersionOut]
    jwks: dict[str, Any] | None = Field(
        default=None, description="Its public keys, if it authenticates with private_key_jwt."
    )
    jwks_uri: str | None = Field(
        default=None, description="Where it publishes its public keys, if it does."
    )
    federation: list[FederationRuleBody] = Field(
        default_factory=list,
        description="The tokens of trusted issuers that authenticate it, if any.",
    )

    @classmethod
    def of(cls, client: OAuthClient) -> ClientOut:
        now = utcnow()
        return cls(
            client_id=client.client_id,
            name=client.name,
            description=client.description,
            scopes=sorted(p.name for p in client.permissions),
            groups=sorted(g.name for g in client.groups),
            status=lifecycle.status_of(CLIENT, client, now),
            created_by=client.created_by,
            created_at=client.created_at,
            last_used_at=client.last_used_at,
            expires_at=client.expires_at,
            token_lifetime=client.token_lifetime,
            allowed_ips=client.allowed_ips.split(),
            secrets=SecretVersionOut.all_of(client.secrets, now),
            jwks=json.loads(client.jwks) if client.jwks is not None else None,
            jwks_uri=client.jwks_uri,
            federation=[FederationRuleBody(**r) for r in rules_summary(client.federation)],
        )


class ClientIssued(ClientOut):
    """A client with its new secret: shown once, never again. A client with public keys
    (``jwks``) has no secret: ``client_secret`` is null."""

    client_secret: str | None
    token_endpoint: str


JwksUri = Annotated[str, StringConstraints(max_length=2000)]
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._~-]{2,99}$")]


class ClientIn(Input):
    name: Name
    description: Description = ""
    scopes: list[Scope] = Field(default_factory=list, max_length=100)
    groups: list[GroupName] = Field(default_factory=list, max_length=100)
    client_id: ClientId | None = Field(default=None, description="Default: generated.")
    expires_at: When | None = None
    token_lifetime: int | None = Field(default=None, ge=MIN_LIFETIME, le=MAX_LIFETIME)
    allowed_ips: list[IpRange] = allowed_ips_field()
    jwks: dict[str, Any] | None = Field(
        default=None,
        description="A JWKS of 1-5 public keys (RSA, EC P-256, Ed25519): the client then"
        " authenticates with private_key_jwt (RFC 7523) and has no secret.",
    )
    jwks_uri: JwksUri | None = Field(
        default=None,
        description="Instead of `jwks`: the https URL where the client publishes its public"
        " keys, fetched when needed and cached.",
    )
    federation: list[FederationRuleBody] | None = Field(
        default=None,
        max_length=10,
        description="Tokens of the tenant's trusted issuers that authenticate the client"
        " (workload identity federation): it then has no secret.",
    )


class CredentialPatch(Input):
    """An edit: a field left out stays as it is; ``scopes`` and ``groups`` replace the lists."""

    name: Name | None = None
    description: Description | None = None
    scopes: list[Scope] | None = Field(default=None, max_length=100)
    groups: list[GroupName] | None = Field(default=None, max_length=100)
    expires_at: When | None = Field(default=None, description="`null` removes the expiry.")
    allowed_ips: list[IpRange] | None = Field(
        default=None,
        max_length=rules.MAX_ALLOWED_IPS,
        description="Replaces the IP allowlist; `[]` allows any address.",
    )

    def shared(self) -> dict[str, Any]:
        """The fields every credential kind edits, as ``CredentialChanges`` takes them."""
        fields = {"name", "description", "scopes", "groups", "expires_at", "allowed_ips"}
        return {
            **self.model_dump(include=fields),
            "clear_expiry": self.cleared("expires_at"),
        }

    def cleared(self, field: str) -> bool:
        """Whether ``field`` was sent as ``null``: removed, not left as it is."""
        return field in self.model_fields_set and getattr(self, field) is None


class ClientPatch(CredentialPatch):
    token_lifetime: int | None = Field(
        default=None,
        ge=MIN_LIFETIME,
        le=MAX_LIFETIME,
        description="`null`: the tenant's token lifetime.",
    )
    jwks: dict[str, Any] | None = Field(
        default=None, description="New public keys for a client that has keys (not a secret)."
    )
    jwks_uri: JwksUri | None = Field(
        default=None, description="A new URL of its public keys, for a client that has keys."
    )
    federation: list[FederationRuleBody] | None = Field(
        default=None,
        max_length=10,
        description="New federation rules, replacing the old, for a client without a secret.",
    )


class RotateIn(Input):
    grace_seconds: int = Field(
        default=0,
        ge=0,
        le=int(MAX_GRACE.total_seconds()),
        description="How long older secrets keep working; 0 stops them at once.",
    )


class RetireIn(Input):
    idle_minutes: int = Field(
        default=60,
        ge=int(grace.MIN_IDLE.total_seconds() // 60),
        le=int(grace.MAX_IDLE.total_seconds() // 60),
        description="End older secret versions unused for this long (their last use is"
        " recorded to the minute, within 75 s).",
    )


class RevokeAllIn(Input):
    keep_management: bool = Field(
        default=False,
        description="Keep the credentials holding `api_keys:verify` or a management permission"
        " (`credentials:read`, `credentials:manage`, `tenant:admin`): the gateways that verify"
        " API keys and the automation that manages Gatepass keep working. Default: revoke those"
        " too.",
    )


class Count(BaseModel):
    count: int = Field(description="How many credentials were revoked.")


# --- API keys --------------------------------------------------------------------------------


class ApiKeyPatch(CredentialPatch):
    rate_limit: RateLimitSpec | None = Field(default=None, description="`null` removes it.")


class ApiKeyOut(BaseModel):
    id: str
    name: str
    description: str
    kind: Literal["service", "personal"]
    owner: str | None = Field(description="The owning user's email, for a personal key.")
    hint: str | None = Field(description="Prefix and last four characters of the live secret.")
    scopes: list[str]
    groups: list[str]
    status: Literal["active", "expired", "suspended", "revoked", "disabled"]
    rate_limit: RateLimitSpec | None
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    allowed_ips: list[str]
    secrets: list[SecretVersionOut] = Field(
        description="Each version of the key: the live one, and older ones still in a grace"
        " period or ended, with its own last use."
    )

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        now = utcnow()
        live = [s for s in key.secrets if s.expires_at is None or s.expires_at > now]
        rate = None
        if key.rate_limit is not None and key.rate_period is not None:
            rate = RateLimitSpec(limit=key.rate_limit, period=key.rate_period)
        return cls(
            id=key.key_id,
            name=key.name,
            description=key.description,
            kind="personal" if key.owner is not None else "service",
            owner=key.owner.email if key.owner is not None else None,
            hint=live[-1].hint if live else None,
            scopes=sorted(p.name for p in key.permissions),
            groups=sorted(g.name for g in key.groups),
            status=lifecycle.status_of(API_KEY, key, now),
            rate_limit=rate,
            created_by=key.created_by,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            expires_at=key.expires_at,
            allowed_ips=key.allowed_ips.split(),
            secrets=SecretVersionOut.all_of(key.secrets, now),
        )


class ApiKeyIssued(ApiKeyOut):
    """A key with its new secret: shown once, never again."""

    key: str


class ApiKeyIn(Input):
    name: Name
    description: Description = ""
    scopes: list[Scope] = Field(default_factory=list, max_length=100)
    groups: list[GroupName] = Field(default_factory=list, max_length=100)
    owner: Annotated[Line, StringConstraints(max_length=320)] | None = Field(
        default=None, description="Email of the user who owns a personal key."
    )
    expires_at: When | None = None
    rate_limit: RateLimitSpec | None = None
    allowed_ips: list[IpRange] = allowed_ips_field()


# --- users -----------------------------------------------------------------------------------


class UserOut(BaseModel):
    id: int
    email: str
    display_name: str
    role: Role
    status: Literal["active", "disabled"]
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            status=user.status,
            created_at=user.created_at,
        )


class UserIn(Input):
    email: Email
    display_name: Annotated[Line, StringConstraints(max_length=200)] = ""
    role: Role
    password: Annotated[str, StringConstraints(min_length=12, max_length=1024)] = Field(
        description="At least 12 characters; stored only as an argon2id hash."
    )


class UserPatch(Input):
    display_name: Annotated[Line, StringConstraints(max_length=200)] | None = None
    role: Role | None = None
    status: Literal["active", "disabled"] | None = Field(
        default=None, description="Disabling signs the user out and disables their personal keys."
    )


# --- audit log and sessions ------------------------------------------------------------------


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor_type: str = Field(
        description="user, client, operator, recipient (who opened an emailed link), or system"
        " (a report of a leaked secret: actor `leak-report:github` or `leak-report:api`)"
    )
    actor: str
    action: str
    target_type: str
    target: str
    source_ip: str
    user_agent: str
    details: dict[str, Any]
    count: int = Field(
        description="how many times it happened: repeated failures from one source share a row"
        " per minute"
    )

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls(
            id=event.id,
            at=event.at,
            actor_type=event.actor_type,
            actor=event.actor,
            action=event.action,
            target_type=event.target_type,
            target=event.target,
            source_ip=event.source_ip,
            user_agent=event.user_agent,
            count=event.count,
            details=event.details,
        )


class SignInIn(Input):
    # No control characters: no address has one, and PostgreSQL cannot even compare a NUL.
    email: Annotated[Line, StringConstraints(max_length=320)]
    password: Annotated[str, StringConstraints(max_length=1024)]


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str = Field(description="Send as X-CSRF-Token on every request that changes data.")
    expires_at: datetime


# --- reports ---------------------------------------------------------------------------------


class DormantOut(BaseModel):
    kind: Literal["oauth_client", "api_key"]
    id: str = Field(description="The client ID or the API key's ID.")
    name: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="`null`: never used.")
    expires_at: datetime | None

    @classmethod
    def of(cls, item: Any) -> DormantOut:
        return cls(**{name: getattr(item, name) for name in cls.model_fields})


class DormantReport(BaseModel):
    days: int
    items: list[DormantOut]
