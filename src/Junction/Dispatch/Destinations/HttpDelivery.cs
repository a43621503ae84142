using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace Junction.Dispatch.Destinations;

/// <summary>One HTTP exchange with a destination: what was sent and what came back (or why nothing did).</summary>
internal sealed record HttpReply(int Status, string Body, HttpResponseHeaders? Headers, string? TransportError)
{
    public bool IsSuccess => TransportError is null && Status is >= 200 and < 300;
}

/// <summary>
/// The request log and the status classification every connector shares (one attempt per call):
/// 2xx success; 429 rate limited with Retry-After (seconds or HTTP-date) or the API's own reset
/// header; 408, 5xx, timeouts and connection failures transient; any other 4xx permanent, with the
/// API's message (401/403 say to check the credentials).
/// </summary>
internal sealed class HttpDelivery(HttpClient http, TimeProvider time)
{
    public const int MaxResponseChars = 2048;

    private readonly List<string> _requests = [];
    private HttpReply? _last;

    public IReadOnlyList<string> Requests => _requests;

    /// <summary>
    /// Sends one request. <paramref name="shownPath"/> is what the DLQ keeps (path and any query
    /// without secrets); <paramref name="json"/> is sent as application/json and kept too.
    /// </summary>
    public async Task<HttpReply> SendAsync(HttpMethod method, Uri url, string shownPath, string? json,
        Action<HttpRequestMessage>? configure, CancellationToken cancellationToken)
    {
        _requests.Add(json is null ? $"{method.Method} {shownPath}" : $"{method.Method} {shownPath} {json}");
        using var request = new HttpRequestMessage(method, url);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        configure?.Invoke(request);
        // One budget for headers and body (the body is streamed, to cap how much is read).
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (http.Timeout != Timeout.InfiniteTimeSpan) budget.CancelAfter(http.Timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, budget.Token);
            var body = await ReadCappedAsync(response.Content, budget.Token);
            _last = new HttpReply((int)response.StatusCode, body, response.Headers, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _last = new HttpReply(0, "", null, $"timed out after {http.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        catch (HttpRequestException e)
        {
            _last = new HttpReply(0, "", null, e.HttpRequestError == HttpRequestError.Unknown ? e.Message : $"{e.HttpRequestError}: {e.Message}");
        }
        catch (IOException e)
        {
            // The connection dropped while the body was being read.
            _last = new HttpReply(0, "", null, e.Message);
        }
        return _last;
    }

    // Enough for any answer these APIs document; a receiver streaming more is not read to the end.
    private const int MaxReadBytes = 1 << 20;

    private static async Task<string> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var copy = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while (copy.Length < MaxReadBytes && (read = await stream.ReadAsync(chunk, cancellationToken)) > 0) copy.Write(chunk, 0, read);
        return Encoding.UTF8.GetString(copy.GetBuffer(), 0, (int)Math.Min(copy.Length, MaxReadBytes));
    }

    public DeliveryResult Succeeded() => new()
    {
        Outcome = DeliveryOutcome.Succeeded,
        Status = _last?.Status is > 0 and var s ? s : 200,
        Requests = _requests,
        Response = Truncate(_last?.Body),
    };

    /// <summary>A failure that is not the API's answer (bad config, unusable data): permanent.</summary>
    public DeliveryResult Permanent(string error, int? status = null) => new()
    {
        Outcome = DeliveryOutcome.Permanent,
        Status = status,
        Error = error,
        Requests = _requests,
        Response = Truncate(_last?.Body),
    };

    /// <summary>Classifies a failed reply; <paramref name="message"/> extracts the API's error text from its body.</summary>
    public DeliveryResult Failed(HttpReply reply, string what, Func<string, string?>? message = null, string? resetHeader = null)
    {
        if (reply.TransportError is not null)
        {
            return new DeliveryResult
            {
                Outcome = DeliveryOutcome.Transient,
                Error = $"{what}: {reply.TransportError}",
                Requests = _requests,
            };
        }

        var apiMessage = SafeMessage(reply.Body, message);
        var status = reply.Status;
        var text = $"{what}: HTTP {status.ToString(CultureInfo.InvariantCulture)}" + (apiMessage is null ? "" : $" {apiMessage}");
        var outcome = status switch
        {
            429 => DeliveryOutcome.RateLimited,
            408 or >= 500 => DeliveryOutcome.Transient,
            _ => DeliveryOutcome.Permanent,
        };
        if (status is 401 or 403) text += " (check credentials)";
        return new DeliveryResult
        {
            Outcome = outcome,
            Status = status,
            Error = text,
            RetryAfter = status == 429 ? RetryAfter(reply.Headers, resetHeader) : null,
            Requests = _requests,
            Response = Truncate(reply.Body),
        };
    }

    /// <summary>Retry-After as delta seconds or an HTTP-date; else the API's reset header in seconds.</summary>
    public TimeSpan? RetryAfter(HttpResponseHeaders? headers, string? resetHeader)
    {
        if (headers is null) return null;
        if (headers.RetryAfter is { } retry)
        {
            if (retry.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
            if (retry.Date is { } date)
            {
                var wait = date - time.GetUtcNow();
                return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
            }
        }
        if (resetHeader is not null && headers.TryGetValues(resetHeader, out var values)
            && double.TryParse(values.FirstOrDefault(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
            && seconds is >= 0 and < 86_400)
        {
            return TimeSpan.FromSeconds(seconds);
        }
        return null;
    }

    public static string? Truncate(string? body) =>
        string.IsNullOrEmpty(body) ? body : body.Length <= MaxResponseChars ? body : body[..MaxResponseChars];

    private static string? SafeMessage(string body, Func<string, string?>? message)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        string? text;
        try
        {
            text = message is null ? body : message(body);
        }
        catch (System.Text.Json.JsonException)
        {
            text = body;
        }
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim();
        return text.Length <= 300 ? text : text[..300] + "…";
    }

    /// <summary>Joins a path under the base URL, keeping the base URL's own path (sandboxes, test servers).</summary>
    public static Uri Under(Uri baseUrl, string relative)
    {
        var basePath = baseUrl.AbsolutePath.TrimEnd('/');
        var builder = new UriBuilder(baseUrl) { Path = basePath + "/" + relative.TrimStart('/'), Query = "" };
        var query = relative.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            builder.Path = basePath + "/" + relative[..query].TrimStart('/');
            builder.Query = relative[(query + 1)..];
        }
        return builder.Uri;
    }
}
