using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Integrations.Klaviyo;

/// <summary>
/// Klaviyo as a state destination that also takes order events (developers.klaviyo.com/en/reference):
/// the facts the config loader, the connector and the read-back share.
/// </summary>
public static class KlaviyoDestination
{
    /// <summary>The config <c>type:</c> value.</summary>
    public const string Type = "klaviyo";

    public const string DefaultBaseUrl = "https://a.klaviyo.com";

    /// <summary>
    /// The API revision sent in the <c>revision</c> header: the current stable one ("Current stable
    /// revision: 2026-10-15", developers.klaviyo.com/en/docs/api_versioning_and_deprecation_policy;
    /// each revision is supported for two years).
    /// </summary>
    public const string Revision = "2026-10-15";

    /// <summary>
    /// Requests per second. Klaviyo limits each endpoint per account in two fixed windows, burst (1 s)
    /// and steady (1 min) (developers.klaviyo.com/en/docs/rate_limits_and_error_handling): profile
    /// import 75/s and 700/m, subscription jobs 75/s and 750/m, events 350/s and 3500/m, list
    /// membership 10/s and 150/m. A delivery makes one to four calls, so 3 deliveries a second stays
    /// under the profile import's steady 700/m (≈ 11.7/s); list-mapped tags (150/m) rely on the 429's
    /// Retry-After when a burst of them exceeds it.
    /// </summary>
    public const double DefaultRate = 3;

    /// <summary>A private API key (pk_…), sent as <c>Authorization: Klaviyo-API-Key …</c>.</summary>
    public const string ApiKey = "api_key";

    public static readonly IReadOnlyList<string> Credentials = [ApiKey];

    /// <summary>The list subscriptions go to (subscribe and unsubscribe jobs) and the read-back reads.</summary>
    public const string ListId = "list_id";

    public static readonly IReadOnlyList<string> Keys = ["tags", "fields", "events", ListId];

    public static readonly IReadOnlyList<string> RequiredOptions = [ListId];

    public static readonly IReadOnlyList<string> OptionalOptions = [];

    /// <summary>The profile property holding the mapped tag names (those not mapped to a list).</summary>
    public const string TagsProperty = "junction_tags";

    /// <summary>A tag mapped to <c>list:&lt;LIST_ID&gt;</c> is membership of that list instead of a name in <see cref="TagsProperty"/>.</summary>
    public const string ListTagPrefix = "list:";

    /// <summary>The metric of <c>order.paid</c> (Klaviyo's own e-commerce name, which its flows and reports know).</summary>
    public const string PlacedOrder = "Placed Order";

    /// <summary>The metric of <c>order.refunded</c>.</summary>
    public const string RefundedOrder = "Refunded Order";

    public static IDestinationConnector CreateConnector(DestinationConfig config, HttpClient http, TimeProvider time) =>
        new KlaviyoConnector(config, http, time);

    public static IDestinationReadBack CreateReadBack(DestinationConfig config, HttpClient http, TimeProvider time) =>
        new KlaviyoReadBack(config, http, time);

    /// <summary>The list id of a tag mapped to <c>list:&lt;id&gt;</c>; null for a property tag.</summary>
    internal static string? ListOf(string tag) =>
        tag.StartsWith(ListTagPrefix, StringComparison.Ordinal) && tag.Length > ListTagPrefix.Length ? tag[ListTagPrefix.Length..] : null;

    internal static void Authorize(HttpRequestMessage request, string apiKey)
    {
        request.Headers.TryAddWithoutValidation("Authorization", "Klaviyo-API-Key " + apiKey);
        request.Headers.Add("revision", Revision);
    }

    /// <summary>Klaviyo's JSON:API errors: <c>{"errors": [{"status", "code", "title", "detail", "source"}]}</c>.</summary>
    internal static string? ErrorMessage(string body)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(body);
        if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object
            || !doc.RootElement.TryGetProperty("errors", out var errors) || errors.ValueKind != System.Text.Json.JsonValueKind.Array)
        {
            return null;
        }
        return string.Join("; ", errors.EnumerateArray().Select(e =>
        {
            var detail = Text(e, "detail") ?? Text(e, "title") ?? e.ToString();
            return Text(e, "code") is { } code ? $"{code}: {detail}" : detail;
        }));
    }

    private static string? Text(System.Text.Json.JsonElement e, string name) =>
        e.ValueKind == System.Text.Json.JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : null;
}
