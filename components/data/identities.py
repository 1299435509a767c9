"""Cognito (customer identities) and the Stripe key's secret."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.data.base import COMPONENT, DataTierBase
from components.naming import tags


class IdentitiesMixin(DataTierBase):
    def _identities(
        self,
    ) -> tuple[aws.cognito.UserPool, aws.cognito.UserPoolClient, aws.cognito.UserPoolDomain]:
        d, n = self._d, self._name
        mfa = d.cognito_mfa != "OFF"
        pool = aws.cognito.UserPool(
            f"{n}-users",
            name=f"{self._base}-users",
            user_pool_tier=d.cognito_tier,
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            username_configuration={"case_sensitive": False},
            password_policy={
                "minimum_length": 12,
                "require_lowercase": True,
                "require_uppercase": True,
                "require_numbers": True,
                "require_symbols": True,
                "temporary_password_validity_days": 3,
                # Password history is an Essentials/Plus feature.
                "password_history_size": 5 if d.cognito_tier != "LITE" else None,
            },
            mfa_configuration=d.cognito_mfa,
            software_token_mfa_configuration={"enabled": True} if mfa else None,
            account_recovery_setting={"recovery_mechanisms": [{"name": "verified_email", "priority": 1}]},
            verification_message_template={"default_email_option": "CONFIRM_WITH_CODE"},
            user_pool_add_ons=(
                {"advanced_security_mode": d.cognito_threat_protection}
                if d.cognito_threat_protection != "OFF"
                else None
            ),
            deletion_protection="ACTIVE" if self._settings.protect_data else "INACTIVE",
            tags=tags(COMPONENT, f"{self._base}-users"),
            opts=self._stateful(),
        )
        # The managed login pages of the authorization-code flow; the prefix must be unique across AWS.
        pool_domain = aws.cognito.UserPoolDomain(
            f"{n}-users",
            domain=pulumi.Output.format("{0}-{1}", self._base, self._account),
            user_pool_id=pool.id,
            opts=self._child,
        )
        client = aws.cognito.UserPoolClient(
            f"{n}-web",
            name=f"{self._base}-web",
            user_pool_id=pool.id,
            # A browser cannot keep a secret: a public client, safe only with PKCE, which the SPA sends (S256).
            generate_secret=False,
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=["code"],
            allowed_oauth_scopes=["openid", "email", "profile"],
            supported_identity_providers=["COGNITO"],
            callback_urls=list(d.cognito_callback_urls),
            logout_urls=list(d.cognito_logout_urls),
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            access_token_validity=d.cognito_access_token_minutes,
            id_token_validity=d.cognito_id_token_minutes,
            refresh_token_validity=d.cognito_refresh_token_days,
            token_validity_units={"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"},
            opts=self._child,
        )
        return pool, client, pool_domain

    # -- Stripe ----------------------------------------------------------------------------------------------------
    def _stripe_secret(self, key: aws.kms.Key, value: pulumi.Output[str] | None) -> aws.secretsmanager.Secret:
        n, env = self._name, self._settings.environment
        secret = aws.secretsmanager.Secret(
            f"{n}-stripe",
            name=f"ecommerce/{env}/payment/stripe-api-key",
            description="Stripe API key of the payment service",
            kms_key_id=key.arn,
            recovery_window_in_days=self._d.secret_recovery_window_days,
            replicas=self._secret_replicas(),
            tags=tags(COMPONENT, f"{n}-stripe"),
            opts=self._stateful(),
        )
        if value is not None:
            aws.secretsmanager.SecretVersion(
                f"{n}-stripe",
                secret_id=secret.id,
                secret_string=value,
                opts=self._child,
            )
        return secret

    # -- the contract ------------------------------------------------------------------------------------------------
