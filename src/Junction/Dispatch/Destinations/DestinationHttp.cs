using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;

namespace Junction.Dispatch.Destinations;

/// <summary>
/// One HTTP exchange with a destination: what came back, or why nothing did
/// (<see cref="TransportError"/> set and <see cref="Status"/> 0: connection failure, timeout,
/// connection dropped while the body was read).
/// </summary>
public sealed record HttpReply(int Status, string Body, HttpResponseHeaders? Headers, string? TransportError)
{
    public bool IsSuccess => TransportError is null && Status is >= 200 and < 300;

    /// <summary>
    /// A failure any request would meet now (no connection, rate limited, an outage, bad
    /// credentials), as opposed to the API refusing this one request: the attempt stops here.
    /// </summary>
    public bool FailsForAnyRequest => Status is 0 or 401 or 403 or 429 or >= 500;
}

/// <summary>
/// One delivery attempt's HTTP calls to one destination, shared by every connector: sends each
/// request (one budget, <see cref="HttpClient.Timeout"/>, for headers and body; at most 1 MiB of
/// body read; the caller's cancellation passes through), records it (method, path, JSON body —
/// never credentials, which travel in headers or are left out of the shown path), keeps the last
/// response, and turns the outcome into the <see cref="DeliveryResult"/> the dispatcher acts on:
/// 2xx succeeded; 429 rate limited (Retry-After in seconds or as an HTTP date, else one of
/// <see cref="ResetHeaders"/> in seconds, else <see cref="DefaultRetryAfter"/>); 408, 5xx, timeouts
/// and connection failures transient; other 4xx permanent with the API's own message (401/403 say
/// to check the credentials).
/// </summary>
/// <param name="http">The destination's client; its <see cref="HttpClient.Timeout"/> bounds each request, body included.</param>
/// <param name="time">The clock an HTTP-date Retry-After is measured against.</param>
/// <param name="baseUrl">What <see cref="SendAsync(HttpMethod, string, JsonNode?, CancellationToken)"/> paths are appended to.</param>
/// <param name="authorize">Applied to every request (auth headers and the like).</param>
public sealed class DestinationHttp(HttpClient http, TimeProvider time, Uri? baseUrl = null, Action<HttpRequestMessage>? authorize = null)
{
    /// <summary>How much of a response body the DLQ keeps.</summary>
    public const int MaxResponseChars = 2048;

    // Enough for any answer these APIs document; a receiver streaming more is not read to the end.
    private const int MaxReadBytes = 1 << 20;

    // How much of the API's message goes into the error text.
    private const int MaxMessageChars = 300;

    private readonly string? _base = baseUrl?.ToString().TrimEnd('/');
    private readonly List<string> _requests = [];

    /// <summary>Headers (delta seconds) that say when the API's rate limit resets, read when a 429 has no Retry-After.</summary>
    public IReadOnlyList<string> ResetHeaders { get; init; } = [];

    /// <summary>The wait on a 429 that names none (e.g. the API's documented window).</summary>
    public TimeSpan? DefaultRetryAfter { get; init; }

    public IReadOnlyList<string> Requests => _requests;

    public HttpReply? Last { get; private set; }

    /// <summary>
    /// Sends one JSON API call to <c>baseUrl + pathAndQuery</c> (with <c>Accept: application/json</c>);
    /// <paramref name="pathAndQuery"/> is what the DLQ keeps, so it must carry no secret.
    /// </summary>
    public Task<HttpReply> SendAsync(HttpMethod method, string pathAndQuery, JsonNode? body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        if (_base is null) throw new InvalidOperationException("this DestinationHttp has no base URL: pass an absolute URL");
        return SendAsync(method, new Uri(_base + pathAndQuery), pathAndQuery, body?.ToJsonString(),
            request => request.Headers.Accept.ParseAdd("application/json"), cancellationToken);
    }

    /// <summary>
    /// Sends one request. <paramref name="shownPath"/> is what the DLQ keeps (path and any query
    /// without secrets); <paramref name="json"/> is sent as application/json and kept too.
    /// <paramref name="configure"/> runs after the constructor's <c>authorize</c>.
    /// </summary>
    public async Task<HttpReply> SendAsync(HttpMethod method, Uri url, string shownPath, string? json,
        Action<HttpRequestMessage>? configure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(method);
        _requests.Add(json is null ? $"{method.Method} {shownPath}" : $"{method.Method} {shownPath} {json}");
        using var request = new HttpRequestMessage(method, url);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        authorize?.Invoke(request);
        configure?.Invoke(request);
        // One budget for headers and body (the body is streamed, to cap how much is read).
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (http.Timeout != Timeout.InfiniteTimeSpan) budget.CancelAfter(http.Timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, budget.Token);
            var body = await ReadCappedAsync(response.Content, budget.Token);
            Last = new HttpReply((int)response.StatusCode, body, response.Headers, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Last = new HttpReply(0, "", null, "timed out");
        }
        catch (HttpRequestException e)
        {
            Last = new HttpReply(0, "", null, "connection failed: " + (e.HttpRequestError == HttpRequestError.Unknown ? e.Message : $"{e.HttpRequestError}: {e.Message}"));
        }
        catch (IOException e)
        {
            // The connection dropped while the body was being read.
            Last = new HttpReply(0, "", null, "connection failed: " + e.Message);
        }
        return Last;
    }

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
        Status = Last?.Status is > 0 and var s ? s : 200,
        Requests = [.. _requests],
        Response = Truncate(Last?.Body),
    };

    /// <summary>A failure that is not the API's answer (bad config, unusable data): permanent.</summary>
    public DeliveryResult Permanent(string error, int? status = null) => new()
    {
        Outcome = DeliveryOutcome.Permanent,
        Status = status,
        Error = error,
        Requests = [.. _requests],
        Response = Truncate(Last?.Body),
    };

    /// <summary>A 2xx whose body is not what the API documents: transient (a proxy or an outage page), kept for the DLQ.</summary>
    public DeliveryResult Unexpected(HttpReply reply, string what)
    {
        ArgumentNullException.ThrowIfNull(reply);
        return new DeliveryResult
        {
            Outcome = DeliveryOutcome.Transient,
            Status = reply.Status,
            Error = $"unexpected response ({reply.Status.ToString(CultureInfo.InvariantCulture)}): {what}",
            Requests = [.. _requests],
            Response = Truncate(reply.Body),
        };
    }

    /// <summary>
    /// Classifies a failed reply. <paramref name="what"/> (the step, e.g. "find user") prefixes the
    /// error; <paramref name="message"/> extracts the API's error text from the body (the raw body
    /// when absent or when the body is not JSON), shortened to 300 characters, any email address in it
    /// masked (APIs quote the address they refused, and this text is stored and logged).
    /// Error text: <c>[what: ]connection failed: …</c>, <c>[what: ]timed out</c>, or
    /// <c>[what: ]{status} {reason}[: check credentials][: {message}]</c>.
    /// </summary>
    public DeliveryResult Failed(HttpReply reply, string? what = null, Func<string, string?>? message = null)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var prefix = string.IsNullOrEmpty(what) ? "" : what + ": ";
        if (reply.TransportError is not null)
        {
            return new DeliveryResult
            {
                Outcome = DeliveryOutcome.Transient,
                Error = prefix + reply.TransportError,
                Requests = [.. _requests],
            };
        }

        var status = reply.Status;
        var apiMessage = SafeMessage(reply.Body, message);
        var text = $"{prefix}{status.ToString(CultureInfo.InvariantCulture)} {ReasonPhrases.GetReasonPhrase(status)}".TrimEnd();
        if (status is 401 or 403) text += ": check credentials";
        if (apiMessage is not null) text += ": " + apiMessage;
        return new DeliveryResult
        {
            Outcome = status switch
            {
                429 => DeliveryOutcome.RateLimited,
                408 or >= 500 => DeliveryOutcome.Transient,
                _ => DeliveryOutcome.Permanent,
            },
            Status = status,
            Error = text,
            RetryAfter = status == 429 ? RetryAfter(reply.Headers, time, ResetHeaders) ?? DefaultRetryAfter : null,
            Requests = [.. _requests],
            Response = Truncate(reply.Body),
        };
    }

    /// <summary>See <see cref="Outbound.RetryAfterHeader.Parse"/>: the one copy shared with the provider API client.</summary>
    public static TimeSpan? RetryAfter(HttpResponseHeaders? headers, TimeProvider time, IReadOnlyList<string>? resetHeaders = null) =>
        Outbound.RetryAfterHeader.Parse(headers, time, resetHeaders);

    public static string? Truncate(string? body) =>
        body is null || body.Length <= MaxResponseChars ? body : body[..MaxResponseChars];

    private static string? SafeMessage(string body, Func<string, string?>? message)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        string? text;
        try
        {
            text = message is null ? body : message(body);
        }
        catch (JsonException)
        {
            text = body;
        }
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = Observability.Pii.Redact(text.Trim())!;
        return text.Length <= MaxMessageChars ? text : text[..MaxMessageChars] + "…";
    }

    /// <summary>Joins a path under the base URL, keeping the base URL's own path (sandboxes, test servers).</summary>
    public static Uri Under(Uri baseUrl, string relative)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        ArgumentNullException.ThrowIfNull(relative);
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
