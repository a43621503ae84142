using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Junction.Tests.Support;

/// <summary>
/// A provider's API faked at the HTTP boundary: a real Kestrel server on a loopback port whose
/// routes a test writes to follow the provider's documentation (status codes, 429 + Retry-After,
/// error bodies). Every request is recorded.
/// </summary>
public sealed class FakeApi : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeApi(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>"METHOD /path?query", the request body, headers and arrival time, in arrival order.</summary>
    public ConcurrentQueue<(string Request, string Body, IReadOnlyDictionary<string, string> Headers, DateTimeOffset At)> Requests { get; } = new();

    public int Count(string methodAndPathPrefix) => Requests.Count(r => r.Request.StartsWith(methodAndPathPrefix, StringComparison.Ordinal));

    /// <summary>
    /// Fault injection, asked once per request (after it is recorded): null answers as documented;
    /// otherwise the <see cref="Fault"/> says how this one request misbehaves. Unset: no faults.
    /// </summary>
    public Func<FaultRequest, Fault?>? Faults { get; set; }

    private const string DropKey = "fake-api-drop";

    /// <summary>True when this request was picked for a silent drop: the fake answers success as documented and applies nothing.</summary>
    public static bool Dropped(HttpContext context) => context.Items.ContainsKey(DropKey);

    public static async Task<FakeApi> StartAsync(Action<IEndpointRouteBuilder> routes)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeApi? fake = null;
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Request.Body.Position = 0;
            fake!.Requests.Enqueue(($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}", body,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                TimeProvider.System.GetUtcNow()));
            if (fake!.Faults?.Invoke(new FaultRequest(context.Request.Method, context.Request.Path.Value ?? "", body)) is { } fault)
            {
                if (fault.Delay > TimeSpan.Zero)
                {
                    // A hung API: the answer comes after the delay, or never when the client gave up first.
                    await Task.Delay(fault.Delay, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                    if (context.RequestAborted.IsCancellationRequested) return;
                }
                if (fault.Status > 0)
                {
                    context.Response.StatusCode = fault.Status;
                    if (fault.RetryAfter is { } retryAfter) context.Response.Headers.RetryAfter = retryAfter;
                    context.Response.ContentType = "application/json";
                    await context.Response.WriteAsync(fault.Status == 429 ? """{"errors":["Rate limit exceeded"]}""" : """{"errors":["Internal server error"]}""");
                    return;
                }
                if (fault.Down)
                {
                    // A service that is away: the connection is cut before any answer.
                    context.Abort();
                    return;
                }
                if (fault.Drop) context.Items[DropKey] = true;
                if (fault.Reset)
                {
                    // Applied, then the connection is cut halfway through the answer's body: the client
                    // cannot know it worked, so at-least-once sends it again.
                    var original = context.Response.Body;
                    using var buffered = new MemoryStream();
                    context.Response.Body = buffered;
                    await next(context);
                    context.Response.Body = original;
                    var answer = buffered.ToArray();
                    context.Response.ContentLength = Math.Max(answer.Length, 2);
                    await original.WriteAsync(answer.AsMemory(0, answer.Length / 2));
                    await original.FlushAsync();
                    context.Abort();
                    return;
                }
            }
            await next(context);
        });
        routes(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake = new FakeApi(app, new Uri(address));
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One request as a fault function sees it: method, path (no query) and body.</summary>
public sealed record FaultRequest(string Method, string Path, string Body);

/// <summary>
/// How one request misbehaves: answered after <paramref name="Delay"/> (a timeout for a client that
/// waits less, and then not applied), with <paramref name="Status"/> instead of the documented answer
/// (and <paramref name="RetryAfter"/> on a 429), or — <paramref name="Drop"/> — answered as a success
/// while nothing is applied (a silent drop; only the fakes that check <see cref="FakeApi.Dropped"/> honour it),
/// <paramref name="Reset"/>: applied, and the connection reset halfway through the answer's body, or
/// <paramref name="Down"/>: the connection reset before any answer, nothing applied.
/// </summary>
public sealed record Fault(int Status = 0, string? RetryAfter = null, TimeSpan Delay = default, bool Drop = false, bool Reset = false, bool Down = false);
