using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Integrations.Kajabi;

/// <summary>
/// Kajabi as a destination, through its Public API v1 (developers.kajabi.com/api-reference): access
/// to what a creator sells in Kajabi is an offer, so the <c>courses:</c> mapping maps a product to a
/// Kajabi offer id. A purchase grants the offer to the person's contact, a refund revokes it. Tags
/// and consent are not its business here (as for the other course platforms).
/// </summary>
/// <remarks>
/// <para>What the mission needs and the documented API offers (read December 2026, API 1.1.0):</para>
/// <list type="bullet">
/// <item>Grant an offer: <c>POST /v1/contacts/{id}/relationships/offers</c>. Revoke it:
/// <c>DELETE /v1/contacts/{id}/relationships/offers</c>. Read a contact's offers:
/// <c>GET /v1/contacts/{id}/relationships/offers</c>. All documented; used as they are.</item>
/// <item>Find a person by email: MISSING as an exact lookup. <c>GET /v1/contacts</c> has no email
/// equality filter, only <c>filter[search]</c> (fuzzy, name or email) and
/// <c>filter[email_contains]</c>. Instead: <c>filter[email_contains]</c> with the whole address, and
/// the exact (case-insensitive) match is picked from the answer.</item>
/// <item>Revoke only the grant Junction made: MISSING. The documented revoke "handles both offer
/// purchases and offer grants", so revoking also ends a purchase of the same offer made in Kajabi's
/// own checkout. Junction therefore revokes only offers it granted itself (last synced), and the
/// read-back reports the rest.</item>
/// <item>Rate limits: the API reference publishes no number and no rate-limit header. Instead: a
/// conservative default rate, Retry-After honoured when a 429 carries it, else a one-minute wait.</item>
/// </list>
/// </remarks>
public static class KajabiDestination
{
    public const string Type = "kajabi";

    /// <summary>"Server URL https://api.kajabi.com; endpoint paths are prefixed with /v1" (the API reference's overview).</summary>
    public const string DefaultBaseUrl = "https://api.kajabi.com";

    /// <summary>
    /// Kajabi's API reference publishes no request quota ("The Kajabi Public API enforces rate
    /// limits", developers.kajabi.com/articles/api-integrations/public-api/using-kajabis-public-api):
    /// a conservative 2/s; a 429 is waited out (Retry-After, else a minute).
    /// </summary>
    public const double DefaultRate = 2;

    /// <summary>OAuth client credentials of a User API Key (Settings → Public API), exchanged at <c>POST /v1/oauth/token</c>.</summary>
    public const string ClientId = "client_id";

    public const string ClientSecret = "client_secret";

    /// <summary>The Kajabi site contacts are created in and searched by (required when the account has several sites).</summary>
    public const string SiteId = "site_id";

    public static readonly string[] Credentials = [ClientId, ClientSecret];

    /// <summary>Beyond the common keys (type, base_url, credentials, rate_limit, retry).</summary>
    public static readonly string[] Keys = ["fields", "courses", SiteId];

    public static readonly string[] RequiredOptions = [SiteId];

    public static readonly string[] OptionalOptions = [];

    public static IDestinationConnector CreateConnector(DestinationConfig config, HttpClient http, TimeProvider time) =>
        new KajabiConnector(config, http, time);

    public static IDestinationReadBack CreateReadBack(DestinationConfig config, HttpClient http, TimeProvider time) =>
        new KajabiReadBack(config, http, time);
}
