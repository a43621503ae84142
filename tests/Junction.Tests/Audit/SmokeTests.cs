using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Junction.Audit;
using Junction.Config;
using Junction.State;
using Junction.Tests.Dispatch.Scenarios;
using Junction.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Junction.Tests.Dispatch.Scenarios.ScenarioRig;

namespace Junction.Tests.Audit;

/// <summary>
/// <c>junction smoke</c> against a real Junction whose state destinations are the stateful fakes of
/// Kit, Mailchimp and Teachable: through Stripe's test mode (a fake Stripe API that sends its own
/// signed webhooks back) and as signed synthetic test-mode events; a failed step is named; the smoke
/// person stays out of the audit's figures and out of GA4. Run per storage engine.
/// </summary>
public abstract class SmokeTests
{
    protected abstract Task<string> NewStorageAsync();

    private static Func<JunctionConfig, JunctionConfig> WithSmoke(FakeStripe? stripe, string mode, TimeSpan? timeout = null) => config =>
    {
        var sources = new Dictionary<string, SourceConfig>(config.Sources, StringComparer.Ordinal)
        {
            ["stripe-main"] = new()
            {
                Id = "stripe-main", Provider = "stripe", Secrets = [JunctionServer.StripeSecret],
                Options = stripe is null ? new Dictionary<string, string>(StringComparer.Ordinal)
                    : new Dictionary<string, string>(StringComparer.Ordinal) { ["api_key"] = FakeStripe.SecretKey, ["api_base_url"] = stripe.BaseUrl.ToString() },
            },
        };
        var products = config.Policy.Products.Select(p => p.Id == "course-pro" ? p with { Match = [.. p.Match, new ProductMatch("stripe-main", Sku: "course-pro")] } : p).ToList();
        return config with
        {
            Sources = sources,
            Policy = config.Policy with { Products = products },
            Smoke = new SmokeSettings
            {
                Source = "stripe-main", Product = "course-pro", LeadSource = "landing", Mode = mode, Email = "smoke+{run}@creator.example",
                StepTimeout = timeout ?? TimeSpan.FromSeconds(30),
            },
        };
    };

    private static Task<SmokeOutcome> RunAsync(ScenarioRig rig) =>
        rig.Server.App.Services.GetRequiredService<SmokeRunner>().RunAsync("test", rig.Server.Client.BaseAddress!, null, CancellationToken.None);

    [Fact]
    public async Task StripeTestMode_LeadPurchaseRefund_AreReadBackAtEveryTool_CleanedUp_AndTheSmokePersonCountsNowhere()
    {
        await using var stripe = await FakeStripe.StartAsync();
        await using var rig = await ScenarioRig.StartAsync(await NewStorageAsync(), configure: WithSmoke(stripe, SmokeModes.Sandbox));
        stripe.WebhookUrl = new Uri(rig.Server.Client.BaseAddress!, "/v1/hooks/stripe-main");

        var outcome = await RunAsync(rig);

        Assert.True(outcome.Passed, string.Join("\n", outcome.Steps.Select(s => $"{s.Step}: {s.Ok} {s.Detail}")));
        Assert.Equal([SmokeStepNames.Lead, SmokeStepNames.LeadSynced, SmokeStepNames.Purchase, SmokeStepNames.AccessGranted,
            SmokeStepNames.Refund, SmokeStepNames.AccessRevoked, SmokeStepNames.Cleanup], outcome.Steps.Select(s => s.Step));
        Assert.Contains("read back at kit, mc, teachable", outcome.Steps[3].Detail, StringComparison.Ordinal);

        // Stripe's test mode was really driven: a PaymentIntent naming the product, refunded, its webhooks delivered.
        var intent = stripe.Events.Single(e => (string)e["type"]! == "payment_intent.succeeded")["data"]!["object"]!;
        Assert.Equal("course-pro", (string)intent["metadata"]!["sku"]!);
        Assert.Contains(stripe.Events, e => (string)e["type"]! == "charge.refunded");
        Assert.Contains(stripe.Sent, s => s.Type == "payment_intent.succeeded" && s.Status == 200);
        Assert.Equal(1, stripe.Api.Count("POST /v1/payment_intents"));
        Assert.Equal(1, stripe.Api.Count("POST /v1/refunds"));

        // Cleaned up: nothing paid left anywhere, the contact unsubscribed.
        var email = (string)intent["receipt_email"]!;
        Assert.StartsWith("smoke+", email, StringComparison.Ordinal);
        Assert.DoesNotContain(PaidTag, rig.Kit.TagsOf(email));
        Assert.Equal("cancelled", rig.Kit.StateOf(email));
        Assert.Empty(rig.Teachable.ActiveCourses(email));

        // A test person: flagged in the state, out of the audit's figures, never sent to GA4.
        var person = await rig.Server.Admin.GetFromJsonAsync<JsonElement>($"/v1/people?email={Uri.EscapeDataString(email)}");
        Assert.True(person.GetProperty("test").GetBoolean());
        var report = await AuditKit.RunAsync(rig.Server.Admin);
        Assert.All(report.GetProperty("points").EnumerateArray(), p => Assert.Equal(0, p.GetProperty("checked").GetInt32()));
        Assert.Empty(rig.Ga4.Events);

        // Listed, and the metric says when the last run passed.
        var runs = await rig.Server.Admin.GetFromJsonAsync<JsonElement>("/v1/smoke");
        var run = runs.GetProperty("items")[0];
        Assert.Equal((outcome.Id, "passed", "sandbox"), (run.GetProperty("id").GetString(), run.GetProperty("status").GetString(), run.GetProperty("mode").GetString()));
        Assert.Equal(7, run.GetProperty("steps").GetArrayLength());
        Assert.Equal(person.GetProperty("id").GetString(), run.GetProperty("person_id").GetString());
        Assert.Contains("junction_smoke_last_success_timestamp", await rig.Server.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutASandbox_SignedSyntheticTestModeEvents_DriveTheSameRun()
    {
        await using var rig = await ScenarioRig.StartAsync(await NewStorageAsync(), configure: WithSmoke(null, SmokeModes.Synthetic));

        var outcome = await RunAsync(rig);

        Assert.True(outcome.Passed, string.Join("\n", outcome.Steps.Select(s => $"{s.Step}: {s.Ok} {s.Detail}")));
        Assert.Contains("signed test-mode payment_intent.succeeded", outcome.Steps[2].Detail, StringComparison.Ordinal);
        var runs = await rig.Server.Admin.GetFromJsonAsync<JsonElement>("/v1/smoke");
        var person = await rig.Server.Admin.GetFromJsonAsync<JsonElement>($"/v1/people/{runs.GetProperty("items")[0].GetProperty("person_id").GetString()}");
        Assert.True(person.GetProperty("test").GetBoolean());
        Assert.Contains(person.GetProperty("orders").EnumerateArray(), o => o.GetProperty("status").GetString() == "refunded");
        Assert.Empty(rig.Ga4.Events);
    }

    [Fact]
    public async Task AWebhookThatNeverComes_FailsTheRunAtTheStepItBroke_AndSaysWhy()
    {
        await using var stripe = await FakeStripe.StartAsync();
        await using var rig = await ScenarioRig.StartAsync(await NewStorageAsync(), configure: WithSmoke(stripe, SmokeModes.Sandbox, TimeSpan.FromSeconds(3)));
        stripe.WebhookUrl = new Uri(rig.Server.Client.BaseAddress!, "/v1/hooks/stripe-main");
        stripe.Sends = type => !type.StartsWith("payment_intent.succeeded", StringComparison.Ordinal) && type != "charge.succeeded";

        var outcome = await RunAsync(rig);

        Assert.False(outcome.Passed);
        Assert.Equal(SmokeStepNames.AccessGranted, outcome.FailedStep);
        Assert.Contains("webhook", outcome.Steps[^1].Detail, StringComparison.Ordinal);
        var run = (await rig.Server.Admin.GetFromJsonAsync<JsonElement>("/v1/smoke")).GetProperty("items")[0];
        Assert.Equal(("failed", SmokeStepNames.AccessGranted), (run.GetProperty("status").GetString(), run.GetProperty("failed_step").GetString()));
    }

    [Fact]
    public async Task PostSmoke_StartsARunInTheBackground_AndNeedsTheAdminToken()
    {
        await using var rig = await ScenarioRig.StartAsync(await NewStorageAsync(), configure: WithSmoke(null, SmokeModes.Synthetic));
        using (var anonymous = await rig.Server.Client.PostAsync("/v1/smoke", null)) Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using var start = await rig.Server.Admin.PostAsync("/v1/smoke", null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var id = (await start.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        await rig.EventuallyAsync(() => rig.Server.Admin.GetFromJsonAsync<JsonElement>("/v1/smoke").Result
            .GetProperty("items").EnumerateArray().Any(r => r.GetProperty("id").GetString() == id && r.GetProperty("status").GetString() == "passed"), "the started run passing", 60);
    }
}

public sealed class SqliteSmokeTests : SmokeTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresSmokeTests : SmokeTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
