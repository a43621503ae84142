using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Integrations.ActiveCampaign;

/// <summary>
/// ActiveCampaign as a state destination (API v3, developers.activecampaign.com/reference): the
/// facts the config loader, the connector and the read-back share.
/// </summary>
public static class ActiveCampaignDestination
{
    /// <summary>The config <c>type:</c> value.</summary>
    public const string Type = "activecampaign";

    /// <summary>
    /// None: every account has its own API URL (Settings → Developer, e.g.
    /// <c>https://youraccount.api-us1.com</c>), and ActiveCampaign says not to build it from the
    /// account name (developers.activecampaign.com/reference/url), so <c>base_url</c> is required.
    /// </summary>
    public const string? DefaultBaseUrl = null;

    /// <summary>What the config loader says when <c>base_url</c> is missing.</summary>
    public const string BaseUrlRequired =
        "required for type activecampaign; expected your account's API URL from Settings → Developer, e.g. https://youraccount.api-us1.com";

    /// <summary>
    /// "Our API has a rate limit of 5 requests per second per account" — per account, shared by every
    /// key in it (developers.activecampaign.com/reference/rate-limits).
    /// </summary>
    public const double DefaultRate = 5;

    /// <summary>The API token (Settings → Developer), sent in the <c>Api-Token</c> header.</summary>
    public const string ApiKey = "api_key";

    public static readonly IReadOnlyList<string> Credentials = [ApiKey];

    /// <summary>The list whose subscription status Junction keeps (status 1 subscribed, 2 unsubscribed).</summary>
    public const string ListId = "list_id";

    public static readonly IReadOnlyList<string> Keys = ["tags", "fields", ListId];

    public static readonly IReadOnlyList<string> RequiredOptions = [];

    /// <summary>Without <c>list_id</c> the contact, its fields and tags are synced, and no subscription status.</summary>
    public static readonly IReadOnlyList<string> OptionalOptions = [ListId];

    public static IDestinationConnector CreateConnector(DestinationConfig config, HttpClient http, TimeProvider time) =>
        new ActiveCampaignConnector(config, http, time);

    public static IDestinationReadBack CreateReadBack(DestinationConfig config, HttpClient http, TimeProvider time) =>
        new ActiveCampaignReadBack(config, http, time);

    /// <summary>
    /// The account URL without a trailing <c>/api/3</c> (the Developer page shows it with or without),
    /// so the connector's <c>/api/3/…</c> paths are never doubled.
    /// </summary>
    internal static Uri AccountUrl(Uri baseUrl)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        var path = baseUrl.AbsolutePath.TrimEnd('/');
        if (path.EndsWith("/api/3", StringComparison.OrdinalIgnoreCase)) path = path[..^"/api/3".Length];
        return new UriBuilder(baseUrl) { Path = path, Query = "" }.Uri;
    }

    /// <summary>ActiveCampaign's errors: <c>{"errors": [{"title", "detail"}]}</c> (422) or <c>{"message": "…"}</c> (403, 404).</summary>
    internal static string? ErrorMessage(string body)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(body);
        var root = doc.RootElement;
        if (root.ValueKind != System.Text.Json.JsonValueKind.Object) return null;
        if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == System.Text.Json.JsonValueKind.Array)
        {
            return string.Join("; ", errors.EnumerateArray().Select(e =>
                e.ValueKind == System.Text.Json.JsonValueKind.Object
                    ? string.Join(": ", new[] { Text(e, "title"), Text(e, "detail") }.Where(t => !string.IsNullOrEmpty(t)))
                    : e.ToString()));
        }
        return Text(root, "message");
    }

    private static string? Text(System.Text.Json.JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : null;
}
