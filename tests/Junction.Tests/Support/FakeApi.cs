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
