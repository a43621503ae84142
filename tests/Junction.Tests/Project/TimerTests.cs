using System.Text.Json;
using Junction.Dispatch;
using Junction.State;
using Junction.Tests.Dispatch.Fakes;
using Junction.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Project;

/// <summary>Durable timers through the running projector: a delayed revocation fires once, at its due time, and shows on the timeline.</summary>
public sealed class TimerTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero));
    private const string HookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private JunctionServer? _server;
    private FakeWebhookReceiver? _hook;

    private JunctionServer Server => _server!;

    public async ValueTask InitializeAsync()
    {
        var rules = Rules with
        {
            Products =
            [
                .. Rules.Products.Where(p => p.Id != "coaching"),
                new ProductPolicy
                {
                    Id = "coaching", Match = [new ProductMatch("app", Sku: "coaching")], TagsWhileActive = ["paid:coaching"],
                    RevokeOn = RevokeOn.AnyRefund, RevokeAfter = TimeSpan.FromDays(7),
                },
            ],
            Lifecycle =
            [
                new LifecycleRule
                {
                    Name = "abandoned", After = "checkout.started", Unless = "order.paid", Delay = TimeSpan.FromHours(2), Emit = "checkout.abandoned",
                },
            ],
        };
        _hook = await FakeWebhookReceiver.StartAsync(HookSecret);
        _hook.Now = _time.GetUtcNow();
        var hook = new DestinationConfig
        {
            Id = "hook", Type = DestinationTypes.Webhook, Traits = DestinationTypes.TraitsOf(DestinationTypes.Webhook), BaseUrl = _hook.Url, RateLimit = 100, Events = ["checkout.abandoned"],
            Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["secret"] = HookSecret },
        };
        _server = await JunctionServer.StartAsync(ProjectKit.Config() with
        {
            Policy = rules,
            Destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal) { ["hook"] = hook },
        }, _time);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_hook is not null) await _hook.DisposeAsync();
    }

    [Fact]
    public async Task LifecycleEmit_DeliversTheEventToEventDestinations_OnceWhenDue_AndNotWhenCancelled()
    {
        // `emit:` was documented and did nothing: the rule's timer fired and no event went anywhere.
        await PostEventAsync(Server, """{"type":"checkout.started","occurred_at":"2026-11-20T11:30:00Z","subject":{"email":"hal@example.com"},"order":{"order_id":"chk_hal"}}""");
        await PostEventAsync(Server, """{"type":"checkout.started","occurred_at":"2026-11-20T11:30:00Z","subject":{"email":"ivy@example.com"},"order":{"order_id":"chk_ivy"}}""");
        await PostEventAsync(Server, Paid("ord_ivy", "ivy@example.com", "2026-11-20T11:45:00Z"));
        await PersonAsync(Server, "/v1/people?email=ivy@example.com", p => p.GetProperty("orders").GetArrayLength() == 1);
        await PersonAsync(Server, "/v1/people?email=hal@example.com", p => p.GetProperty("timers").GetArrayLength() == 1);
        Assert.Empty(_hook!.Processed);

        _time.Advance(TimeSpan.FromHours(2));
        _hook.Now = _time.GetUtcNow();
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(15);
        while (_hook.Processed.Count == 0 && TimeProvider.System.GetUtcNow() < deadline) await Task.Delay(50);

        var (_, body) = Assert.Single(_hook.Processed);
        using var doc = JsonDocument.Parse(body);
        var data = doc.RootElement.GetProperty("data");
        Assert.Equal("checkout.abandoned", doc.RootElement.GetProperty("type").GetString());
        Assert.Equal("hal@example.com", data.GetProperty("subject").GetProperty("email").GetString());

        // Once: later projector passes (more time, more events for the same person) send nothing more.
        _time.Advance(TimeSpan.FromDays(1));
        _hook.Now = _time.GetUtcNow();
        await PostEventAsync(Server, OptIn("hal@example.com", "2026-11-21T15:00:00Z"));
        await Task.Delay(1500);
        Assert.Single(_hook.Processed);
    }

    [Fact]
    public async Task DelayedRevocation_IsPendingUntilDue_ThenFiresOnce()
    {
        await PostEventAsync(Server, Paid("ord_c", "gil@example.com", "2026-11-20T10:00:00Z", sku: "coaching"));
        await PostEventAsync(Server, Refund("ord_c", "gil@example.com", "2026-11-20T11:00:00Z", amount: 1000));

        var pending = await PersonAsync(Server, "/v1/people?email=gil@example.com", p => Has(p, "coaching", "pending_revocation"));
        Assert.Contains("paid:coaching", Strings(pending.GetProperty("tags")));
        var timer = Assert.Single(pending.GetProperty("timers").EnumerateArray());
        Assert.Equal("revocation", timer.GetProperty("kind").GetString());
        Assert.False(timer.GetProperty("due").GetBoolean());

        _time.Advance(TimeSpan.FromDays(6));
        await Task.Delay(1500);
        Assert.True(Has(await GetJsonAsync(Server.Admin, "/v1/people?email=gil@example.com"), "coaching", "pending_revocation"));

        _time.Advance(TimeSpan.FromDays(2));
        var revoked = await PersonAsync(Server, "/v1/people?email=gil@example.com", p => Has(p, "coaching", "revoked"));
        Assert.DoesNotContain("paid:coaching", Strings(revoked.GetProperty("tags")));

        var id = revoked.GetProperty("id").GetString()!;
        var items = (await GetJsonAsync(Server.Admin, $"/v1/people/{id}/timeline")).GetProperty("items").EnumerateArray().ToList();
        var timers = items.Where(i => i.GetProperty("kind").GetString() == "timer").ToList();
        Assert.Contains("fired", Assert.Single(timers).GetProperty("summary").GetString()!, StringComparison.Ordinal);
        var fired = items.Where(i => i.GetProperty("kind").GetString() == "state_change" && i.GetProperty("detail").GetString() == "timer").ToList();
        Assert.Contains("entitlement coaching: pending_revocation → revoked", Assert.Single(fired).GetProperty("summary").GetString()!, StringComparison.Ordinal);

        // Fires once: more time passing changes nothing.
        _time.Advance(TimeSpan.FromDays(30));
        await Task.Delay(1500);
        var after = (await GetJsonAsync(Server.Admin, $"/v1/people/{id}/timeline")).GetProperty("items").EnumerateArray()
            .Count(i => i.GetProperty("kind").GetString() == "state_change" && i.GetProperty("detail").GetString() == "timer");
        Assert.Equal(1, after);
    }
}
