using System.Net;
using System.Text.Json;
using Junction.Config;
using Junction.Normalize;

namespace Junction.Providers;

/// <summary>The provider answered with something other than success; <see cref="RetryAfter"/> when it said when to come back.</summary>
public sealed class ProviderApiException(HttpStatusCode status, string message, TimeSpan? retryAfter)
    : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>429 and 5xx pass; other 4xx will not change by asking again.</summary>
    public bool IsTransient => Status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || (int)Status >= 500;
}

/// <summary>
/// One source's view of its provider's API: base URL, credentials, and errors turned into
/// <see cref="ProviderApiException"/> with Retry-After. Single attempt: the caller's durable
/// schedule decides when to try again. Its clock measures an HTTP-date Retry-After.
/// </summary>
public sealed class ProviderApiClient(HttpClient http, SourceConfig source, IProviderApi api, TimeProvider time)
{
    public SourceConfig Source { get; } = source;

    public Uri BaseUrl { get; } = new((source.Option("api_base_url") ?? api.DefaultBaseUrl).TrimEnd('/') + "/");

    private int _requests;

    /// <summary>Requests sent through this client (failed ones included): what a read of the provider cost.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public async Task<JsonElement> GetJsonAsync(string pathAndQuery, CancellationToken cancellationToken)
    {
        var (body, _) = await GetAsync(pathAndQuery, cancellationToken);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>
    /// POSTs form fields (Stripe's API takes them) with an <c>Idempotency-Key</c>, so a request sent
    /// again after a lost answer is applied once. The provider's own error message is kept.
    /// </summary>
    public async Task<JsonElement> PostFormAsync(string path, IEnumerable<KeyValuePair<string, string>> fields, string idempotencyKey, CancellationToken cancellationToken)
    {
        var uri = new Uri(BaseUrl, path.TrimStart('/'));
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        await api.AuthorizeAsync(request, Source, http, cancellationToken);
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            string? said = null;
            try
            {
                said = JsonDocument.Parse(body).RootElement.Str("error.message");
            }
            catch (JsonException)
            {
                // not JSON: the status says enough
            }
            throw new ProviderApiException(response.StatusCode, $"POST {uri.AbsolutePath} answered {(int)response.StatusCode} {response.StatusCode}"
                + (said is null ? "" : $": {(said.Length > 300 ? said[..300] : said)}"), Outbound.RetryAfterHeader.Parse(response.Headers, time));
        }
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The body and the response headers that paging needs (e.g. Link).</summary>
    public async Task<(byte[] Body, HttpResponseMessage Response)> GetAsync(string pathAndQuery, CancellationToken cancellationToken)
    {
        var uri = Uri.TryCreate(pathAndQuery, UriKind.Absolute, out var absolute) && absolute.Scheme.StartsWith("http", StringComparison.Ordinal)
            ? absolute
            : new Uri(BaseUrl, pathAndQuery.TrimStart('/'));
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.ParseAdd("application/json");
        await api.AuthorizeAsync(request, Source, http, cancellationToken);
        Interlocked.Increment(ref _requests);
        var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var retryAfter = Outbound.RetryAfterHeader.Parse(response.Headers, time);
            var status = response.StatusCode;
            response.Dispose();
            throw new ProviderApiException(status, $"GET {uri.AbsolutePath} answered {(int)status} {status}", retryAfter);
        }
        return (body, response);
    }
}
