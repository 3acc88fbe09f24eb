#!/usr/bin/env python3
"""Extends ZITADEL's API subset (shared/seeds/zitadel/zitadel-api-subset.openapi.json,
generated from the protos of a v4.0-era tree) with the calls idferry makes that the
subset lacks, written from the same protos, in the same generated style:

- PUT  /admin/v1/policies/password/lockout   AdminService_UpdateLockoutPolicy
- the email providers that replace /admin/v1/smtp* (admin.proto, settings.proto):
  POST /admin/v1/email/_search, GET|DELETE /admin/v1/email/{id},
  POST /admin/v1/email/smtp, PUT /admin/v1/email/smtp/{id},
  PUT /admin/v1/email/smtp/{id}/password, POST /admin/v1/email/{id}/_activate,
  POST /admin/v1/email/{id}/_deactivate
- POST /v2/users/human                       UserService_AddHumanUser
- POST /management/v1/users/machine          ManagementService_AddMachineUser (no
  stable v2 replacement in v4.0: CreateUser, /v2/users/new, came later)
- POST /v2/organizations/_search, POST /v2/organizations (OrganizationService), the
  replacements of /admin/v1/orgs/_search and POST /management/v1/orgs
- DELETE /admin/v1/text/login/{language} and /admin/v1/text/message/*/{language}
  (AdminService ResetCustom...TextToDefault)
- PUT /admin/v1/idps/google/{id}, PUT /admin/v1/idps/github/{id} (Update...Provider)
- applications (management v1, deprecated in v4 for the v2beta app service):
  POST .../apps/saml, PUT .../apps/{app_id}, PUT .../apps/{app_id}/oidc_config,
  /api_config, /saml_config

Usage: extend-subset.py SEED.json OUT.json (standard library only, deterministic).
"""
import json
import sys

ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/rpcStatus"}}}}
ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "minLength": 1}
U64 = {"type": ["string", "integer"], "pattern": "^[0-9]+$"}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def obj(proto, properties, required=None):
    s = {"type": "object", "properties": properties, "additionalProperties": False, "x-proto": proto}
    if required:
        s["required"] = required
    return s


def operation(op_id, response, params=(), body=None, deprecated=False):
    op = {
        "operationId": op_id,
        "deprecated": deprecated,
        "parameters": [{"name": p, "in": "path", "required": True, "schema": dict(ID)} for p in params],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": ref(response)}}},
            "default": ERROR,
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def details_only(proto):
    return obj(proto, {"details": ref("zitadel_v1_ObjectDetails")})


def main(seed, out):
    spec = json.load(open(seed, encoding="utf-8"))
    paths, schemas = spec["paths"], spec["components"]["schemas"]

    # Lockout: read at /policies/lockout, written at /policies/password/lockout.
    schemas["zitadel_admin_v1_UpdateLockoutPolicyResponse"] = details_only("zitadel.admin.v1.UpdateLockoutPolicyResponse")
    paths["/admin/v1/policies/password/lockout"] = {"put": operation(
        "AdminService_UpdateLockoutPolicy", "zitadel_admin_v1_UpdateLockoutPolicyResponse",
        body=obj("zitadel.admin.v1.UpdateLockoutPolicyRequest", {
            "maxPasswordAttempts": {"type": "integer", "minimum": 0},
            "maxOtpAttempts": {"type": "integer", "minimum": 0},
        }))}

    # Email providers.
    state = {"oneOf": [{"type": "string", "enum": ["EMAIL_PROVIDER_STATE_UNSPECIFIED", "EMAIL_PROVIDER_ACTIVE", "EMAIL_PROVIDER_INACTIVE"]}, {"type": "integer"}]}
    schemas["zitadel_settings_v1_EmailProviderSMTP"] = obj("zitadel.settings.v1.EmailProviderSMTP", {
        "senderAddress": {"type": "string"}, "senderName": {"type": "string"}, "tls": {"type": "boolean"},
        "host": {"type": "string"}, "user": {"type": "string"}, "replyToAddress": {"type": "string"}})
    schemas["zitadel_settings_v1_EmailProviderHTTP"] = obj("zitadel.settings.v1.EmailProviderHTTP", {
        "endpoint": {"type": "string"}})
    schemas["zitadel_settings_v1_EmailProvider"] = obj("zitadel.settings.v1.EmailProvider", {
        "details": ref("zitadel_v1_ObjectDetails"), "id": {"type": "string"}, "state": state,
        "description": {"type": "string"}, "smtp": ref("zitadel_settings_v1_EmailProviderSMTP"),
        "http": ref("zitadel_settings_v1_EmailProviderHTTP")})
    schemas["zitadel_admin_v1_ListEmailProvidersResponse"] = obj("zitadel.admin.v1.ListEmailProvidersResponse", {
        "details": ref("zitadel_v1_ListDetails"),
        "result": {"type": "array", "items": ref("zitadel_settings_v1_EmailProvider")}})
    schemas["zitadel_admin_v1_GetEmailProviderByIdResponse"] = obj("zitadel.admin.v1.GetEmailProviderByIdResponse", {
        "config": ref("zitadel_settings_v1_EmailProvider")})
    schemas["zitadel_admin_v1_AddEmailProviderSMTPResponse"] = obj("zitadel.admin.v1.AddEmailProviderSMTPResponse", {
        "details": ref("zitadel_v1_ObjectDetails"), "id": {"type": "string"}})
    for name in ["UpdateEmailProviderSMTP", "UpdateEmailProviderSMTPPassword", "ActivateEmailProvider",
                 "DeactivateEmailProvider", "RemoveEmailProvider"]:
        schemas[f"zitadel_admin_v1_{name}Response"] = details_only(f"zitadel.admin.v1.{name}Response")
    smtp_fields = {
        "senderAddress": {"type": "string", "minLength": 1, "maxLength": 200},
        "senderName": {"type": "string", "minLength": 1, "maxLength": 200},
        "tls": {"type": "boolean"},
        "host": {"type": "string", "minLength": 1, "maxLength": 500},
        "user": {"type": "string"},
        "password": {"type": "string"},
        "replyToAddress": {"type": "string"},
        "description": {"type": "string", "maxLength": 200},
    }
    empty = lambda proto: obj(proto, {})
    paths["/admin/v1/email/_search"] = {"post": operation(
        "AdminService_ListEmailProviders", "zitadel_admin_v1_ListEmailProvidersResponse",
        body=obj("zitadel.admin.v1.ListEmailProvidersRequest", {"query": ref("zitadel_v1_ListQuery")}))}
    paths["/admin/v1/email/{id}"] = {
        "get": operation("AdminService_GetEmailProviderById", "zitadel_admin_v1_GetEmailProviderByIdResponse", ["id"]),
        "delete": operation("AdminService_RemoveEmailProvider", "zitadel_admin_v1_RemoveEmailProviderResponse", ["id"]),
    }
    paths["/admin/v1/email/smtp"] = {"post": operation(
        "AdminService_AddEmailProviderSMTP", "zitadel_admin_v1_AddEmailProviderSMTPResponse",
        body=obj("zitadel.admin.v1.AddEmailProviderSMTPRequest", smtp_fields, ["senderAddress", "senderName", "host"]))}
    paths["/admin/v1/email/smtp/{id}"] = {"put": operation(
        "AdminService_UpdateEmailProviderSMTP", "zitadel_admin_v1_UpdateEmailProviderSMTPResponse", ["id"],
        body=obj("zitadel.admin.v1.UpdateEmailProviderSMTPRequest", smtp_fields, ["senderAddress", "senderName", "host"]))}
    paths["/admin/v1/email/smtp/{id}/password"] = {"put": operation(
        "AdminService_UpdateEmailProviderSMTPPassword", "zitadel_admin_v1_UpdateEmailProviderSMTPPasswordResponse", ["id"],
        body=obj("zitadel.admin.v1.UpdateEmailProviderSMTPPasswordRequest", {"password": {"type": "string"}}))}
    paths["/admin/v1/email/{id}/_activate"] = {"post": operation(
        "AdminService_ActivateEmailProvider", "zitadel_admin_v1_ActivateEmailProviderResponse", ["id"],
        body=empty("zitadel.admin.v1.ActivateEmailProviderRequest"))}
    paths["/admin/v1/email/{id}/_deactivate"] = {"post": operation(
        "AdminService_DeactivateEmailProvider", "zitadel_admin_v1_DeactivateEmailProviderResponse", ["id"],
        body=empty("zitadel.admin.v1.DeactivateEmailProviderRequest"))}

    # Users: AddHumanUser (v2, stable) and AddMachineUser (management v1).
    schemas["zitadel_object_v2_Organization"] = {"type": "object", "properties": {
        "orgId": {"type": "string"}, "orgDomain": {"type": "string"}},
        "additionalProperties": False, "x-proto": "zitadel.object.v2.Organization"}
    schemas["zitadel_user_v2_SetMetadataEntry"] = obj("zitadel.user.v2.SetMetadataEntry", {
        "key": {"type": "string", "minLength": 1, "maxLength": 200},
        "value": {"type": "string", "contentEncoding": "base64", "minLength": 1}}, ["key", "value"])
    schemas["zitadel_user_v2_AddHumanUserResponse"] = obj("zitadel.user.v2.AddHumanUserResponse", {
        "userId": {"type": "string"}, "details": ref("zitadel_object_v2_Details"),
        "emailCode": {"type": "string"}, "phoneCode": {"type": "string"}})
    profile = dict(ref("zitadel_user_v2_SetHumanProfile"))
    paths["/v2/users/human"] = {"post": operation(
        "UserService_AddHumanUser", "zitadel_user_v2_AddHumanUserResponse",
        body=obj("zitadel.user.v2.AddHumanUserRequest", {
            "userId": {"type": "string"},
            "username": {"type": "string"},
            "organization": ref("zitadel_object_v2_Organization"),
            "profile": profile,
            "email": ref("zitadel_user_v2_SetHumanEmail"),
            "phone": ref("zitadel_user_v2_SetHumanPhone"),
            "metadata": {"type": "array", "items": ref("zitadel_user_v2_SetMetadataEntry")},
            "password": ref("zitadel_user_v2_Password"),
            "hashedPassword": ref("zitadel_user_v2_HashedPassword"),
            "totpSecret": {"type": "string"},
        }, ["profile", "email"]))}
    schemas["zitadel_management_v1_AddMachineUserResponse"] = obj("zitadel.management.v1.AddMachineUserResponse", {
        "userId": {"type": "string"}, "details": ref("zitadel_v1_ObjectDetails")})
    paths["/management/v1/users/machine"] = {"post": operation(
        "ManagementService_AddMachineUser", "zitadel_management_v1_AddMachineUserResponse",
        body=obj("zitadel.management.v1.AddMachineUserRequest", {
            "userName": {"type": "string", "minLength": 1, "maxLength": 200},
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "description": {"type": "string", "maxLength": 500},
            "accessTokenType": {"oneOf": [{"type": "string", "enum": ["ACCESS_TOKEN_TYPE_BEARER", "ACCESS_TOKEN_TYPE_JWT"]}, {"type": "integer"}]},
        }, ["userName", "name"]))}

    # Organizations (v2).
    org_state = {"oneOf": [{"type": "string", "enum": ["ORGANIZATION_STATE_UNSPECIFIED", "ORGANIZATION_STATE_ACTIVE", "ORGANIZATION_STATE_INACTIVE", "ORGANIZATION_STATE_REMOVED"]}, {"type": "integer"}]}
    schemas["zitadel_org_v2_Organization"] = obj("zitadel.org.v2.Organization", {
        "id": {"type": "string"}, "details": ref("zitadel_object_v2_Details"), "state": org_state,
        "name": {"type": "string"}, "primaryDomain": {"type": "string"}})
    schemas["zitadel_org_v2_ListOrganizationsResponse"] = obj("zitadel.org.v2.ListOrganizationsResponse", {
        "details": ref("zitadel_object_v2_ListDetails"),
        "sortingColumn": {"oneOf": [{"type": "string", "enum": ["ORGANIZATION_FIELD_NAME_UNSPECIFIED", "ORGANIZATION_FIELD_NAME_NAME"]}, {"type": "integer"}]},
        "result": {"type": "array", "items": ref("zitadel_org_v2_Organization")}})
    schemas["zitadel_org_v2_OrganizationNameQuery"] = obj("zitadel.org.v2.OrganizationNameQuery", {
        "name": {"type": "string"},
        "method": {"oneOf": [{"type": "string", "enum": ["TEXT_QUERY_METHOD_EQUALS", "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE", "TEXT_QUERY_METHOD_STARTS_WITH", "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE", "TEXT_QUERY_METHOD_CONTAINS", "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE", "TEXT_QUERY_METHOD_ENDS_WITH", "TEXT_QUERY_METHOD_ENDS_WITH_IGNORE_CASE"]}, {"type": "integer"}]}})
    schemas["zitadel_org_v2_SearchQuery"] = obj("zitadel.org.v2.SearchQuery", {
        "nameQuery": ref("zitadel_org_v2_OrganizationNameQuery")})
    schemas["zitadel_org_v2_AddOrganizationResponse"] = obj("zitadel.org.v2.AddOrganizationResponse", {
        "details": ref("zitadel_object_v2_Details"), "organizationId": {"type": "string"},
        "createdAdmins": {"type": "array", "items": {"type": "object"}}})
    paths["/v2/organizations/_search"] = {"post": operation(
        "OrganizationService_ListOrganizations", "zitadel_org_v2_ListOrganizationsResponse",
        body=obj("zitadel.org.v2.ListOrganizationsRequest", {
            "query": ref("zitadel_object_v2_ListQuery"),
            "queries": {"type": "array", "items": ref("zitadel_org_v2_SearchQuery")}}))}
    paths["/v2/organizations"] = {"post": operation(
        "OrganizationService_AddOrganization", "zitadel_org_v2_AddOrganizationResponse",
        body=obj("zitadel.org.v2.AddOrganizationRequest", {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "orgId": {"type": "string"}}, ["name"]))}

    # Texts reset to what ZITADEL ships.
    for segment, name in [("login", "Login"), ("message/init", "InitMessage"),
                          ("message/passwordreset", "PasswordResetMessage"),
                          ("message/verifyemail", "VerifyEmailMessage"),
                          ("message/verifyphone", "VerifyPhoneMessage"),
                          ("message/password_change", "PasswordChangeMessage")]:
        response = f"zitadel_admin_v1_ResetCustom{name}TextToDefaultResponse"
        schemas[response] = details_only(f"zitadel.admin.v1.ResetCustom{name}TextToDefaultResponse")
        paths[f"/admin/v1/text/{segment}/{{language}}"]["delete"] = operation(
            f"AdminService_ResetCustom{name}TextToDefault", response, ["language"])

    # Identity providers of the other types, updated as generic OIDC ones are.
    for kind, name in [("google", "Google"), ("github", "GitHub")]:
        add = paths[f"/admin/v1/idps/{kind}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        update = json.loads(json.dumps(add))
        update["x-proto"] = f"zitadel.admin.v1.Update{name}ProviderRequest"
        response = f"zitadel_admin_v1_Update{name}ProviderResponse"
        schemas[response] = details_only(f"zitadel.admin.v1.Update{name}ProviderResponse")
        paths[f"/admin/v1/idps/{kind}/{{id}}"] = {"put": operation(
            f"AdminService_Update{name}Provider", response, ["id"], body=update)}

    # Applications: SAML, and updates of each type's settings.
    apps = "/management/v1/projects/{project_id}/apps"
    oidc = paths[f"{apps}/oidc"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    api = paths[f"{apps}/api"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schemas["zitadel_management_v1_AddSAMLAppResponse"] = obj("zitadel.management.v1.AddSAMLAppResponse", {
        "appId": {"type": "string"}, "details": ref("zitadel_v1_ObjectDetails")})
    saml_fields = {"metadataXml": {"type": "string", "contentEncoding": "base64"}, "metadataUrl": {"type": "string"}}
    paths[f"{apps}/saml"] = {"post": operation(
        "ManagementService_AddSAMLApp", "zitadel_management_v1_AddSAMLAppResponse", ["project_id"],
        body=obj("zitadel.management.v1.AddSAMLAppRequest", dict({"name": {"type": "string", "minLength": 1}}, **saml_fields)),
        deprecated=True)}
    for op, proto, props in [
        ("UpdateApp", "UpdateAppRequest", {"name": {"type": "string", "minLength": 1}}),
        ("UpdateOIDCAppConfig", "UpdateOIDCAppConfigRequest", {k: v for k, v in oidc["properties"].items() if k != "name"}),
        ("UpdateAPIAppConfig", "UpdateAPIAppConfigRequest", {k: v for k, v in api["properties"].items() if k != "name"}),
        ("UpdateSAMLAppConfig", "UpdateSAMLAppConfigRequest", saml_fields),
    ]:
        schemas[f"zitadel_management_v1_{op}Response"] = details_only(f"zitadel.management.v1.{op}Response")
        suffix = {"UpdateApp": "", "UpdateOIDCAppConfig": "/oidc_config",
                  "UpdateAPIAppConfig": "/api_config", "UpdateSAMLAppConfig": "/saml_config"}[op]
        path = f"{apps}/{{app_id}}{suffix}"
        paths.setdefault(path, {})["put"] = operation(
            f"ManagementService_{op}", f"zitadel_management_v1_{op}Response", ["project_id", "app_id"],
            body=obj(f"zitadel.management.v1.{proto}", props), deprecated=True)

    spec["info"]["title"] += " + idferry's additions (crates/zitadel/testdata/extend-subset.py)"
    with open(out, "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=1, sort_keys=False)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
