using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;

namespace Junction.Dispatch.Destinations;

/// <summary>One response as a connector reads it.</summary>
public sealed record DestinationResponse(int Status, string Body, HttpResponseHeaders Headers)
{
    public bool IsSuccess => Status is >= 200 and < 300;
}

/// <summary>
/// One delivery attempt's HTTP calls to one destination: records every request (method, path,
/// JSON body — never credentials, which travel in headers), keeps the last response body, and
/// turns a failure into the <see cref="DeliveryResult"/> the dispatcher acts on.
/// </summary>
public sealed class DestinationHttp(HttpClient http, Uri baseUrl, Action<HttpRequestMessage> authorize, TimeProvider time)
{
    public const int MaxResponseChars = 2048;

    private readonly string _base = baseUrl.ToString().TrimEnd('/');

    public List<string> Requests { get; } = [];

    public DestinationResponse? Last { get; private set; }

    /// <summary>Sends one request. Connection errors and timeouts come back as status 0 (see <see cref="Fail"/>).</summary>
    public async Task<DestinationResponse> SendAsync(HttpMethod method, string pathAndQuery, JsonNode? body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(method);
        var json = body?.ToJsonString();
        Requests.Add(json is null ? $"{method} {pathAndQuery}" : $"{method} {pathAndQuery} {json}");
        using var request = new HttpRequestMessage(method, _base + pathAndQuery);
        request.Headers.Accept.ParseAdd("application/json");
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        authorize(request);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            Last = new DestinationResponse((int)response.StatusCode, text, response.Headers);
        }
        catch (HttpRequestException ex)
        {
            Last = new DestinationResponse(0, $"connection failed: {ex.Message}", EmptyHeaders());
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Last = new DestinationResponse(0, "timed out", EmptyHeaders());
        }
        return Last;
    }

    public DeliveryResult Ok() => new()
    {
        Outcome = DeliveryOutcome.Succeeded,
        Status = Last?.Status ?? 200,
        Requests = [.. Requests],
        Response = Truncate(Last?.Body),
    };

    /// <summary>
    /// Classifies a failed response: 429 → RateLimited (Retry-After in seconds or as an HTTP date,
    /// else RateLimit-Reset / X-RateLimit-Reset seconds, else <paramref name="defaultRetryAfter"/>);
    /// 5xx, 408, timeouts and connection errors → Transient; 401/403 → Permanent with a hint to
    /// check the credentials; other 4xx → Permanent with the API's own message.
    /// </summary>
    public DeliveryResult Fail(DestinationResponse response, string? apiMessage, TimeSpan? defaultRetryAfter = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        var status = response.Status;
        var (outcome, error) = status switch
        {
            0 => (DeliveryOutcome.Transient, response.Body),
            429 => (DeliveryOutcome.RateLimited, "rate limited (429)" + Suffix(apiMessage)),
            408 or >= 500 => (DeliveryOutcome.Transient, $"{status} {Reason(status)}" + Suffix(apiMessage)),
            401 or 403 => (DeliveryOutcome.Permanent, $"{status} {Reason(status)}: check credentials" + Suffix(apiMessage)),
            _ => (DeliveryOutcome.Permanent, $"{status} {Reason(status)}" + Suffix(apiMessage)),
        };
        return new DeliveryResult
        {
            Outcome = outcome,
            Status = status == 0 ? null : status,
            Error = error,
            RetryAfter = status == 429 ? RetryAfter(response.Headers, time) ?? defaultRetryAfter : null,
            Requests = [.. Requests],
            Response = Truncate(response.Body),
        };
    }

    /// <summary>A 2xx whose body is not what the API documents: transient (a proxy or an outage page), kept for the DLQ.</summary>
    public DeliveryResult Unexpected(DestinationResponse response, string what)
    {
        ArgumentNullException.ThrowIfNull(response);
        return new DeliveryResult
        {
            Outcome = DeliveryOutcome.Transient,
            Status = response.Status,
            Error = $"unexpected response ({response.Status}): {what}",
            Requests = [.. Requests],
            Response = Truncate(response.Body),
        };
    }

    /// <summary>Retry-After (delta seconds or HTTP date), else the RateLimit-Reset family of headers (delta seconds).</summary>
    public static TimeSpan? RetryAfter(HttpResponseHeaders headers, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(time);
        if (headers.RetryAfter is { } retry)
        {
            if (retry.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
            if (retry.Date is { } date)
            {
                var wait = date - time.GetUtcNow();
                return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
            }
        }
        foreach (var name in (string[])["RateLimit-Reset", "X-RateLimit-Reset"])
        {
            if (headers.TryGetValues(name, out var values)
                && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                && seconds < 86_400)
            {
                return TimeSpan.FromSeconds(seconds);
            }
        }
        return null;
    }

    public static string? Truncate(string? body) =>
        body is null ? null : body.Length <= MaxResponseChars ? body : body[..MaxResponseChars];

    private static string Suffix(string? message) => string.IsNullOrWhiteSpace(message) ? "" : ": " + message;

    private static string Reason(int status) => ReasonPhrases.GetReasonPhrase(status);

    private static HttpResponseHeaders EmptyHeaders()
    {
        using var response = new HttpResponseMessage();
        return response.Headers;
    }
}
