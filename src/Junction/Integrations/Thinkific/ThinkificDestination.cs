using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Integrations.Thinkific;

/// <summary>
/// Thinkific as a destination: a course platform holding enrollments only (the <c>courses:</c>
/// mapping, product → Thinkific course id). Tags and consent are not its business.
/// </summary>
public static class ThinkificDestination
{
    public const string Type = "thinkific";

    /// <summary>The Admin API root (developers.thinkific.com/api/api-documentation: servers).</summary>
    public const string DefaultBaseUrl = "https://api.thinkific.com/api/public/v1";

    /// <summary>
    /// 120 requests per minute per site (developers.thinkific.com/api/rate-limits), with at most
    /// 10 in flight; Plus sites may have more (raise <c>rate_limit</c>).
    /// </summary>
    public const double DefaultRate = 2;

    /// <summary>The Admin API key (Settings → Code &amp; analytics → API), sent as <c>X-Auth-API-Key</c>.</summary>
    public const string ApiKey = "api_key";

    /// <summary>The site's subdomain (<c>myschool</c> of myschool.thinkific.com), sent as <c>X-Auth-Subdomain</c>.</summary>
    public const string Subdomain = "subdomain";

    public static readonly string[] Credentials = [ApiKey];

    /// <summary>Beyond the common keys (type, base_url, credentials, rate_limit, retry).</summary>
    public static readonly string[] Keys = ["fields", "courses", Subdomain];

    public static readonly string[] RequiredOptions = [Subdomain];

    public static readonly string[] OptionalOptions = [];

    public static IDestinationConnector CreateConnector(DestinationConfig config, HttpClient http, TimeProvider time) =>
        new ThinkificConnector(config, http, time);

    public static IDestinationReadBack CreateReadBack(DestinationConfig config, HttpClient http, TimeProvider time) =>
        new ThinkificReadBack(config, http, time);
}
