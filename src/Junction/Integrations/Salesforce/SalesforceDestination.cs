using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Integrations.Salesforce;

/// <summary>Salesforce (REST API) as a state destination: what the config loader, the dispatcher and the audit need to know.</summary>
public static class SalesforceDestination
{
    public const string Type = "salesforce";

    /// <summary>None: every org has its own My Domain (https://NAME.my.salesforce.com), so <c>base_url</c> is required.</summary>
    public const string? DefaultBaseUrl = null;

    // Salesforce meters API calls per org per rolling 24 h (e.g. Enterprise: 100 000 + 1 000 per licence),
    // not per second, and caps concurrent long requests at 25
    // (developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm):
    // 5/s keeps a busy launch well inside a small org's day.
    public const double DefaultRate = 5;

    public const string ClientId = "client_id";
    public const string ClientSecret = "client_secret";

    public const string ObjectOption = "object";
    public const string ExternalIdField = "external_id_field";
    public const string TagsField = "tags_field";
    public const string ApiVersion = "api_version";

    public const string DefaultObject = "Contact";
    public const string DefaultApiVersion = "v62.0";

    public static readonly string[] Credentials = [ClientId, ClientSecret];

    public static readonly string[] Keys = ["tags", "fields", ObjectOption, ExternalIdField, TagsField, ApiVersion];

    /// <summary>
    /// The upsert key holding the email: a custom field marked External ID and Unique (e.g. Junction_Email__c),
    /// or an idLookup field such as Email, where duplicates make the upsert answer 300. Salesforce reads an
    /// email ending in a file extension (".inc", ".json") in the URL as a format and answers 404
    /// (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_upsert_patch.htm).
    /// </summary>
    public static readonly string[] RequiredOptions = [ExternalIdField];

    public static readonly string[] OptionalOptions = [ObjectOption, TagsField, ApiVersion];

    public static IDestinationConnector CreateConnector(DestinationConfig config, HttpClient http, TimeProvider time) => new SalesforceConnector(config, http, time);

    public static IDestinationReadBack CreateReadBack(DestinationConfig config, HttpClient http, TimeProvider time) => new SalesforceReadBack(config, http, time);
}
