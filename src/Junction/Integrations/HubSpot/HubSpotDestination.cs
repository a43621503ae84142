using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Integrations.HubSpot;

/// <summary>HubSpot (CRM v3) as a state destination: what the config loader, the dispatcher and the audit need to know.</summary>
public static class HubSpotDestination
{
    public const string Type = "hubspot";

    public const string DefaultBaseUrl = "https://api.hubapi.com";

    // Private apps: 100 requests per 10 s (Free/Starter; 190 on Professional/Enterprise), shared by every
    // app of the account (developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines).
    public const double DefaultRate = 10;

    /// <summary>A private app's access token (sent as <c>Authorization: Bearer</c>).</summary>
    public const string AccessToken = "access_token";

    public const string TagsProperty = "tags_property";
    public const string SubscriptionTypeId = "subscription_type_id";
    public const string Deals = "deals";
    public const string DealIdProperty = "deal_id_property";
    public const string DealPipeline = "deal_pipeline";
    public const string DealStage = "deal_stage";
    public const string RefundStage = "refund_stage";

    /// <summary>The contact property holding the mapped tags, semicolon-separated (a multiple checkboxes or text property).</summary>
    public const string DefaultTagsProperty = "junction_tags";

    /// <summary>The deal property holding the order id; it must be a property with unique values (idProperty of the upsert).</summary>
    public const string DefaultDealIdProperty = "junction_order_id";

    public static readonly string[] Credentials = [AccessToken];

    public static readonly string[] Keys = ["tags", "fields", TagsProperty, SubscriptionTypeId, Deals, DealIdProperty, DealPipeline, DealStage, RefundStage];

    public static readonly string[] RequiredOptions = [];

    public static readonly string[] OptionalOptions = [TagsProperty, SubscriptionTypeId, DealIdProperty, DealPipeline, DealStage, RefundStage];

    public static readonly string[] FlagOptions = [Deals];

    public static IDestinationConnector CreateConnector(DestinationConfig config, HttpClient http, TimeProvider time) => new HubSpotConnector(config, http, time);

    public static IDestinationReadBack CreateReadBack(DestinationConfig config, HttpClient http, TimeProvider time) => new HubSpotReadBack(config, http, time);
}
