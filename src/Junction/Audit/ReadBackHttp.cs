using System.Text.Json;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Audit;

/// <summary>
/// GETs for a read-back, one copy for every destination: the gate (the destination's rate limit)
/// before each request; a 429 waits for its Retry-After or reset header (else
/// <see cref="DefaultRetryAfter"/>) and asks again; 5xx and transport failures are retried a few
/// times with backoff; 401/403 and other 4xx end the read with the API's status named. An audit
/// is not urgent, so waiting is right; giving up loses nothing (the next audit reads again).
/// </summary>
public sealed class ReadBackHttp(DestinationConfig config, HttpClient http, TimeProvider time, ReadBackGate gate, Action<HttpRequestMessage> authorize)
{
    private const int MaxRateLimited = 20;
    private const int MaxTransient = 4;

    public IReadOnlyList<string> ResetHeaders { get; init; } = [];
    public TimeSpan DefaultRetryAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests sent, retries included.</summary>
    public int Calls { get; private set; }

    public async Task<JsonElement> GetAsync(string pathAndQuery, CancellationToken cancellationToken)
    {
        var (limited, failed) = (0, 0);
        while (true)
        {
            await gate(cancellationToken);
            Calls++;
            var call = new DestinationHttp(http, time, config.BaseUrl, authorize);
            var reply = await call.SendAsync(HttpMethod.Get, pathAndQuery, null, cancellationToken);
            var path = pathAndQuery.Split('?')[0];
            if (reply.IsSuccess)
            {
                try
                {
                    return JsonDocument.Parse(reply.Body).RootElement.Clone();
                }
                catch (JsonException)
                {
                    throw new ReadBackException($"GET {path} answered {reply.Status} with a body that is not JSON");
                }
            }
            if (reply.Status == 429 && ++limited <= MaxRateLimited)
            {
                await Task.Delay(DestinationHttp.RetryAfter(reply.Headers, time, ResetHeaders) ?? DefaultRetryAfter, time, cancellationToken);
                continue;
            }
            if ((reply.Status is 0 or 408 or >= 500) && ++failed <= MaxTransient)
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Pow(2, failed)), time, cancellationToken);
                continue;
            }
            throw new ReadBackException(reply.Status switch
            {
                0 => $"GET {path}: {reply.TransportError}",
                401 or 403 => $"GET {path} answered {reply.Status}: the credentials were refused; check destinations.{config.Id}.credentials",
                429 => $"GET {path} was still rate limited after {MaxRateLimited} waits",
                _ => $"GET {path} answered {reply.Status}",
            });
        }
    }
}
