using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Junction.Config;
using Junction.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Junction.Tests.Support;

/// <summary>Junction hosted in the test process on a real loopback socket (Kestrel on port 0).</summary>
public sealed class JunctionServer : IAsyncDisposable
{
    public const string AdminToken = "test-admin-token-0123456789";
    public const string StripeSecret = "whsec_test_stripe_secret_current";
    public const string StripeOldSecret = "whsec_test_stripe_secret_previous";
    public const string ShopifySecret = "shopify_client_secret_test";
    public const string StandardSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    private JunctionServer(WebApplication app, Uri baseAddress)
    {
        App = app;
        Client = new HttpClient { BaseAddress = baseAddress };
        Admin = new HttpClient { BaseAddress = baseAddress };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
    }

    public WebApplication App { get; }
    public HttpClient Client { get; }
    public HttpClient Admin { get; }

    public static JunctionConfig Config(string storage, int maxBodyBytes = SourceConfig.DefaultMaxBodyBytes) => new()
    {
        Storage = storage,
        Admin = new AdminConfig([AdminToken]),
        Sources = new Dictionary<string, SourceConfig>(StringComparer.Ordinal)
        {
            ["stripe-main"] = new() { Id = "stripe-main", Provider = "stripe", Secrets = [StripeSecret, StripeOldSecret], MaxBodyBytes = maxBodyBytes },
            ["shop"] = new() { Id = "shop", Provider = "shopify", Secrets = [ShopifySecret], MaxBodyBytes = maxBodyBytes },
            ["std"] = new() { Id = "std", Provider = "standard-webhooks", Secrets = [StandardSecret], MaxBodyBytes = maxBodyBytes },
        },
        Path = "test.yaml",
    };

    public static async Task<JunctionServer> StartAsync(JunctionConfig config, TimeProvider? time = null, Action<IServiceCollection>? services = null,
        CapturedLogs? logs = null)
    {
        var app = await JunctionHost.BuildAsync(config, "http://127.0.0.1:0", time,
            logging: l => { if (logs is null) l.ClearProviders(); else logs.AddTo(l); }, configureServices: services);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new JunctionServer(app, new Uri(address));
    }

    public async Task<HttpResponseMessage> PostStripeAsync(byte[] body, long timestamp, string secret = StripeSecret, string source = "stripe-main")
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/hooks/{source}") { Content = content };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", Sign.Stripe(secret, body, timestamp));
        return await Client.SendAsync(request);
    }

    /// <summary>Posts a raw webhook with the given headers (signatures computed by the caller).</summary>
    public async Task<HttpResponseMessage> PostAsync(string source, byte[] body, string contentType,
        IReadOnlyDictionary<string, string>? headers = null, string? query = null)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/hooks/{source}{(query is null ? "" : "?" + query)}") { Content = content };
        foreach (var (k, v) in headers ?? new Dictionary<string, string>()) request.Headers.TryAddWithoutValidation(k, v);
        return await Client.SendAsync(request);
    }

    /// <summary>
    /// Waits until normalization has finished with a raw event (mapped, ignored or quarantined) and
    /// returns its outcome and canonical events, from GET /v1/events?raw_id=ID.
    /// </summary>
    public async Task<Normalized> NormalizedAsync(string rawId, string until = "mapped|ignored|quarantined")
    {
        var wanted = until.Split('|');
        JsonElement last = default;
        for (var i = 0; i < 300; i++)
        {
            last = await Admin.GetFromJsonAsync<JsonElement>($"/v1/events?raw_id={Uri.EscapeDataString(rawId)}");
            var status = last.GetProperty("normalization").GetProperty("status").GetString();
            if (wanted.Contains(status))
            {
                var reason = last.GetProperty("normalization").TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                return new Normalized(status!, reason, [.. last.GetProperty("items").EnumerateArray()]);
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"raw event {rawId} did not reach {until}: {last}");
    }

    /// <summary>Every raw event of a source, following the cursor to the end.</summary>
    public async Task<List<JsonElement>> AllRawEventsAsync(string? source = null)
    {
        var items = new List<JsonElement>();
        string? after = null;
        do
        {
            var url = $"/v1/raw-events?limit=1000{(source is null ? "" : "&source=" + source)}{(after is null ? "" : "&after=" + after)}";
            var page = await Admin.GetFromJsonAsync<JsonElement>(url);
            items.AddRange(page.GetProperty("items").EnumerateArray());
            after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        } while (after is not null);
        return items;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Admin.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

public sealed record Normalized(string Status, string? Reason, IReadOnlyList<JsonElement> Events);
