using System.Text;
using Junction.Providers;
using Junction.Integrations.StandardWebhooks;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Junction.Tests.Dispatch.Fakes;

/// <summary>
/// A receiver of outgoing webhooks that behaves as the Standard Webhooks spec asks of one: it
/// verifies each request with Junction's own incoming verifier (<see cref="StandardWebhooksProvider"/>,
/// 5-minute tolerance, on the real clock unless <see cref="Now"/> is set), answers 401 to a bad
/// signature, and processes each <c>webhook-id</c> once (a redelivery is acknowledged, not
/// processed again). Switches make it answer an error or 429 with Retry-After, or stall.
/// </summary>
public sealed class FakeWebhookReceiver : IAsyncDisposable
{
    public const string Path = "/hooks/junction";

    private readonly Lock _gate = new();
    private readonly string _secret;
    private readonly List<(string Id, string Body)> _processed = [];
    private readonly Queue<(int Status, string? RetryAfter, string Body)> _scripted = new();

    private FakeWebhookReceiver(string secret) => _secret = secret;

    public FakeApi Api { get; private set; } = null!;

    public Uri Url => new(Api.BaseUrl, Path);

    /// <summary>The clock the signature tolerance is checked against (the real one when null).</summary>
    public DateTimeOffset? Now { get; set; }

    /// <summary>How long each request waits before being answered (to provoke client timeouts).</summary>
    public TimeSpan Stall { get; set; }

    /// <summary>When set, requests are answered with headers and a first chunk of body, then nothing for this long.</summary>
    public TimeSpan StallBody { get; set; }

    public int SignatureFailures { get; private set; }

    public static async Task<FakeWebhookReceiver> StartAsync(string secret)
    {
        var fake = new FakeWebhookReceiver(secret);
        fake.Api = await FakeApi.StartAsync(app => app.MapPost(Path, (Func<HttpContext, Task<IResult>>)fake.HandleAsync));
        return fake;
    }

    /// <summary>The next <paramref name="count"/> requests answer <paramref name="status"/> (with this Retry-After) and are not processed.</summary>
    public void RespondNext(int count, int status, string? retryAfter = null, string body = "")
    {
        lock (_gate)
        {
            for (var i = 0; i < count; i++) _scripted.Enqueue((status, retryAfter, body));
        }
    }

    /// <summary>Messages processed, once per webhook-id, in order: (webhook-id, body).</summary>
    public IReadOnlyList<(string Id, string Body)> Processed
    {
        get { lock (_gate) return _processed.ToList(); }
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        if (Stall > TimeSpan.Zero) await Task.Delay(Stall, context.RequestAborted);
        if (StallBody > TimeSpan.Zero)
        {
            context.Response.StatusCode = 200;
            await context.Response.WriteAsync("{\"ok\":", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(StallBody, context.RequestAborted);
            return Results.Empty;
        }
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        lock (_gate)
        {
            if (_scripted.TryDequeue(out var scripted))
            {
                if (scripted.RetryAfter is not null) context.Response.Headers.RetryAfter = scripted.RetryAfter;
                return Results.Text(scripted.Body, "text/plain", statusCode: scripted.Status);
            }
            var request = new WebhookRequest(body, name => context.Request.Headers.TryGetValue(name, out var v) ? v.ToString() : null);
            var check = new StandardWebhooksProvider().Verify(request, [_secret], TimeSpan.FromMinutes(5), Now ?? TimeProvider.System.GetUtcNow());
            if (!check.IsValid)
            {
                SignatureFailures++;
                return Results.Text(check.Detail, "text/plain", statusCode: 401);
            }
            var id = context.Request.Headers["webhook-id"].ToString();
            if (_processed.All(p => p.Id != id)) _processed.Add((id, Encoding.UTF8.GetString(body)));
            return Results.NoContent();
        }
    }

    public ValueTask DisposeAsync() => Api.DisposeAsync();
}
