using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Normalize;
using Junction.Providers;

namespace Junction.Integrations.PayPal;

/// <summary>
/// PayPal's REST API: an OAuth2 bearer token from <c>POST /v1/oauth2/token</c> (client credentials,
/// basic auth with client_id:client_secret), kept until shortly before it expires. Backfill pages
/// through <c>GET /v1/notifications/webhooks-events</c> (PayPal keeps the events it sent) by
/// <c>links[rel=next]</c>.
/// </summary>
public sealed class PayPalApi(TimeProvider? time = null) : IProviderApi, IBackfill
{
    public const string Sandbox = "https://api-m.sandbox.paypal.com";

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    // Tokens outlive a request: one per base URL, client and secret (so a rotated secret gets a new one).
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset RefreshAt)> _tokens = new(StringComparer.Ordinal);

    public string DefaultBaseUrl => "https://api-m.paypal.com";

    public IBackfill Backfill => this;

    public async ValueTask AuthorizeAsync(HttpRequestMessage request, SourceConfig source, HttpClient http, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await AccessTokenAsync(source, http, cancellationToken));
    }

    public Uri BaseUrl(SourceConfig source) => new((source.Option("api_base_url") ?? DefaultBaseUrl).TrimEnd('/') + "/");

    /// <summary>A bearer token for the source's client; throws <see cref="ProviderApiException"/> when PayPal refuses.</summary>
    public async Task<string> AccessTokenAsync(SourceConfig source, HttpClient http, CancellationToken cancellationToken)
    {
        // A missing credential is a config problem that retrying will not fix: 401 makes it permanent.
        var clientId = source.Option("client_id")
            ?? throw new ProviderApiException(HttpStatusCode.Unauthorized, $"sources.{source.Id}.client_id is not set", null);
        var secret = source.Option("client_secret")
            ?? throw new ProviderApiException(HttpStatusCode.Unauthorized, $"sources.{source.Id}.client_secret is not set", null);
        var baseUrl = BaseUrl(source);
        var key = $"{baseUrl}\n{clientId}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)))}";
        if (_tokens.TryGetValue(key, out var cached) && cached.RefreshAt > _time.GetUtcNow()) return cached.Token;

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "v1/oauth2/token"))
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new ProviderApiException(response.StatusCode,
                $"POST /v1/oauth2/token answered {(int)response.StatusCode} {response.StatusCode}", response.Headers.RetryAfter?.Delta);
        }
        using var doc = JsonDocument.Parse(body);
        var token = doc.RootElement.Str("access_token") ?? throw new JsonException("POST /v1/oauth2/token: access_token missing from the answer");
        var expiresIn = doc.RootElement.Whole("expires_in") ?? 300;
        // Refresh a minute early so a token never expires between this check and PayPal's.
        _tokens[key] = (token, _time.GetUtcNow() + TimeSpan.FromSeconds(Math.Max(0, expiresIn - 60)));
        return token;
    }

    public async IAsyncEnumerable<BackfillItem> PullAsync(ProviderApiClient api, DateTimeOffset since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? next = "/v1/notifications/webhooks-events?page_size=300&start_time="
            + Uri.EscapeDataString(since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (next is not null && seen.Add(next))
        {
            var page = await api.GetJsonAsync(next, cancellationToken);
            foreach (var e in page.Array("events"))
            {
                if (e.Str("id") is not { Length: > 0 } id) continue;
                yield return new BackfillItem(id, Encoding.UTF8.GetBytes(e.GetRawText()), "application/json",
                    new Dictionary<string, string> { ["x-junction-backfill"] = "paypal /v1/notifications/webhooks-events" });
            }
            next = NextPage(page);
        }
    }

    /// <summary>
    /// The path and query of <c>links[rel=next]</c>, taken relative to the configured base URL so
    /// the bearer token is never sent to a host the answer names.
    /// </summary>
    internal static string? NextPage(JsonElement page)
    {
        foreach (var link in page.Array("links"))
        {
            if (link.Str("rel") == "next" && Uri.TryCreate(link.Str("href"), UriKind.Absolute, out var href)) return href.PathAndQuery;
        }
        return null;
    }
}
