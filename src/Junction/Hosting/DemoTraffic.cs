using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Junction.Config;
using Junction.Providers;
using Microsoft.AspNetCore.Hosting.Server;

namespace Junction.Hosting;

/// <summary>
/// The demo's simulated traffic (only with the built-in demo configuration): made-up customer
/// journeys posted to this node's own intake as a landing page and a payment provider would post
/// them — an opt-in on <c>demo-form</c> with UTMs, for some a signed purchase on
/// <see cref="PaymentSource"/> (the demo source of the first provider whose purchases Junction can
/// simulate, <see cref="IWebhookProvider.Simulated"/>), for a few a refund — so a newcomer sees every dashboard page with something in it within a minute. Every
/// address is <c>demo-N@demo.junction.invalid</c> and every source is a demo source: demo data,
/// never mistaken for a creator's. A burst at start, then one journey every half minute, at most
/// <see cref="MaxJourneys"/>.
/// </summary>
public sealed class DemoTraffic(JunctionConfig config, IServer server, IHttpClientFactory http, TimeProvider time, IHostApplicationLifetime lifetime,
    ILogger<DemoTraffic> logger) : BackgroundService
{
    public const int MaxJourneys = 400;
    public const string EmailDomain = "demo.junction.invalid";
    private static readonly string[] Sources = ["ig", "newsletter", "youtube", "podcast", "google"];
    private static readonly string[] Campaigns = ["launch", "evergreen", "black-friday"];

    private static readonly IWebhookProvider Payments = ProviderRegistry.All.First(p => p.Simulated is not null && p.Demo is not null);

    /// <summary>The demo source the simulated purchases arrive on.</summary>
    public static string PaymentSource => Payments.Demo!.Id;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!config.IsDemo) return;
        try
        {
            await Task.Delay(Timeout.Infinite, lifetime.ApplicationStarted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            var self = Audit.SmokeScheduler.OwnAddress(server, new Uri(Cli.JunctionCli.DefaultUrls));
            Observability.Log.DemoTraffic(logger, MaxJourneys);
            using var client = http.CreateClient(nameof(DemoTraffic));
            client.BaseAddress = self;
            var random = new Random(20261203);
            for (var n = 1; n <= MaxJourneys && !stoppingToken.IsCancellationRequested; n++)
            {
                await JourneyAsync(client, random, n, stoppingToken);
                await Task.Delay(n < 40 ? TimeSpan.FromSeconds(1.5) : TimeSpan.FromSeconds(30), time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
        catch (HttpRequestException ex)
        {
            Observability.Log.DemoTrafficStopped(logger, ex.Message);
        }
    }

    private async Task JourneyAsync(HttpClient client, Random random, int n, CancellationToken cancellationToken)
    {
        var email = $"demo-{n}@{EmailDomain}";
        var utm = random.Next(6) == 0 ? null : Sources[random.Next(Sources.Length)];
        var campaign = Campaigns[random.Next(Campaigns.Length)];
        var lead = new JsonObject { ["email"] = email, ["name"] = $"Demo Person {n}", ["consent_email"] = "yes" };
        if (utm is not null)
        {
            lead["utm_source"] = utm;
            lead["utm_campaign"] = campaign;
            lead["first_utm_source"] = utm;
            lead["first_utm_campaign"] = campaign;
        }
        using (var form = await client.PostAsync("/v1/forms/demo-form", new StringContent(lead.ToJsonString(), Encoding.UTF8, "application/json"), cancellationToken)) { }
        if (random.NextDouble() > 0.55) return;

        var amount = random.Next(3) == 0 ? 9900 : 4900;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["sku"] = amount == 9900 ? "demo-coaching" : "demo-course" };
        if (utm is not null)
        {
            metadata["utm_source"] = utm;
            metadata["utm_campaign"] = campaign;
        }
        var purchase = new SimulatedPurchase { Reference = $"demo_{n:D5}", Email = email, Amount = amount, Currency = "usd", Metadata = metadata, Live = true };
        var source = Payments.Demo!;
        var simulated = Payments.Simulated!;
        await PostAsync(client, source.Id, simulated.Paid(source, purchase, time.GetUtcNow()), cancellationToken);
        if (random.Next(10) != 0) return;
        await PostAsync(client, source.Id, simulated.Refunded(source, purchase, time.GetUtcNow()), cancellationToken);
    }

    private static async Task PostAsync(HttpClient client, string source, SimulatedWebhook hook, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/hooks/{source}") { Content = new ByteArrayContent(hook.Body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(hook.ContentType);
        foreach (var (name, value) in hook.Headers) request.Headers.TryAddWithoutValidation(name, value);
        using var response = await client.SendAsync(request, cancellationToken);
    }
}
