using System.Text.Json;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Kajabi;

/// <summary>
/// The bearer token of one Kajabi destination: <c>POST /v1/oauth/token</c> with
/// <c>grant_type=client_credentials</c>, <c>client_id</c> and <c>client_secret</c> as a form
/// (developers.kajabi.com/api-reference/authentication/get-access-token), kept until a minute before
/// its <c>expires_in</c> and shared by the deliveries of that destination. The form is never
/// recorded: DestinationHttp keeps only the path of a request sent without a JSON body.
/// </summary>
internal sealed class KajabiToken(DestinationConfig config, TimeProvider time)
{
    // Renewed this long before Kajabi says it expires, so a request never leaves with a dying token.
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(60);

    // Replaced whole, never mutated: deliveries running at once read a consistent pair. Two of them
    // may both ask for a token when none is kept; both answers are valid, the last one is kept.
    private sealed record Held(string Token, DateTimeOffset Expires);

    private Held? _held;

    /// <summary>True when <see cref="GetAsync"/> would ask Kajabi for a token (none kept, or about to expire).</summary>
    public bool NeedsRenewal => Volatile.Read(ref _held) is not { } held || time.GetUtcNow() >= held.Expires - Margin;

    /// <summary>
    /// The token now (asking Kajabi when none is held, it is about to expire, or <paramref name="renew"/>);
    /// else the failed reply, with <c>Unexpected</c> set when it was a 2xx without a usable token.
    /// </summary>
    public async Task<(string? Token, HttpReply? Reply, string? Unexpected)> GetAsync(DestinationHttp attempt, bool renew, CancellationToken cancellationToken)
    {
        if (!renew && Volatile.Read(ref _held) is { } held && time.GetUtcNow() < held.Expires - Margin) return (held.Token, null, null);
        Volatile.Write(ref _held, null);
        var form = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["grant_type"] = "client_credentials",
            [KajabiDestination.ClientId] = config.Credentials[KajabiDestination.ClientId],
            [KajabiDestination.ClientSecret] = config.Credentials[KajabiDestination.ClientSecret],
        };
        var reply = await attempt.SendAsync(HttpMethod.Post, DestinationHttp.Under(config.BaseUrl, "v1/oauth/token"), "/v1/oauth/token", null,
            r =>
            {
                r.Content = new FormUrlEncodedContent(form);
                r.Headers.Accept.ParseAdd("application/json");
            }, cancellationToken);
        if (!reply.IsSuccess) return (null, reply, null);
        try
        {
            using var doc = JsonDocument.Parse(reply.Body);
            var root = doc.RootElement;
            if (!root.TryGetProperty("access_token", out var t) || t.GetString() is not { Length: > 0 } token) return (null, reply, "get access token: no access_token in the answer");
            var lifetime = root.TryGetProperty("expires_in", out var x) && x.TryGetInt32(out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(10);
            Volatile.Write(ref _held, new Held(token, time.GetUtcNow() + lifetime));
            return (token, reply, null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return (null, reply, "get access token: the answer is not the documented JSON");
        }
    }

    /// <summary>What a delivery or a read cannot do without: null when the config is usable.</summary>
    public static string? CheckConfig(DestinationConfig config)
    {
        foreach (var name in KajabiDestination.Credentials)
        {
            if (!config.Credentials.TryGetValue(name, out var value) || string.IsNullOrWhiteSpace(value))
            {
                return $"destinations.{config.Id}.credentials.{name}: required for Kajabi (a User API Key's OAuth client credentials)";
            }
        }
        if (!config.Options.TryGetValue(KajabiDestination.SiteId, out var site) || string.IsNullOrWhiteSpace(site))
        {
            return $"destinations.{config.Id}.site_id: required for Kajabi (the site contacts belong to; GET /v1/sites lists them)";
        }
        return null;
    }

    /// <summary>Kajabi ids are strings of digits (JSON:API resource identifiers).</summary>
    public static bool IsId(string id) => id.Length is > 0 and <= 20 && id.All(char.IsAsciiDigit);

    /// <summary>
    /// Kajabi errors: JSON:API <c>{"errors": [{"status", "title", "detail", "source"}]}</c>, and the
    /// token endpoint's <c>{"error": "…"}</c>.
    /// </summary>
    public static string? Message(string body)
    {
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) return body;
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String) return error.GetString();
        if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
        {
            return string.Join("; ", errors.EnumerateArray().Select(e =>
                e.ValueKind != JsonValueKind.Object ? e.ToString()
                : e.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()
                : e.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                : e.ToString()));
        }
        return body;
    }
}
