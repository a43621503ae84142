using Junction.State;
using Junction.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Project;

/// <summary>Durable timers through the running projector: a delayed revocation fires once, at its due time, and shows on the timeline.</summary>
public sealed class TimerTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero));
    private JunctionServer? _server;

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
        };
        _server = await JunctionServer.StartAsync(ProjectKit.Config() with { Policy = rules }, _time);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
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
