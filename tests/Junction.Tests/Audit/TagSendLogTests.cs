using Junction.Audit;
using Junction.Dispatch;
using Junction.State;

namespace Junction.Tests.Audit;

/// <summary>Point 4's duplicate tag adds, counted from Junction's succeeded state deliveries.</summary>
public sealed class TagSendLogTests
{
    private const string Paid = "Customer - Course Pro";
    private static readonly DateTimeOffset Granted = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static readonly Policy Rules = new()
    {
        // Every provider's declared kind, as the config loader and JunctionConfig hand them to the fold.
        Ownership = Ownership.For(Junction.Providers.ProviderRegistry.Kinds),
        Tags = new HashSet<string>(StringComparer.Ordinal) { "paid:course-pro", "winback" },
        Products = [new ProductPolicy { Id = "course-pro", Match = [new ProductMatch("stripe-main", Price: "price_pro")], TagsWhileActive = ["paid:course-pro"] }],
    };

    private static readonly DestinationConfig Kit = new()
    {
        Id = "kit-main", Type = DestinationTypes.Kit, Traits = DestinationTypes.TraitsOf(DestinationTypes.Kit), BaseUrl = new Uri("https://api.kit.com"), RateLimit = 2,
        Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["paid:course-pro"] = Paid, ["winback"] = "Winback" },
    };

    private static readonly Dictionary<string, PersonState> Ada = new(StringComparer.Ordinal)
    {
        ["p_ada"] = new PersonState { Entitlements = [new EntitlementState { Product = "course-pro", State = EntitlementStates.Active, GrantedAt = Granted }] },
    };

    private static StateSend Send(double hoursAfterGrant, params string[] tags) => new("kit-main", "p_ada", tags, Granted.AddHours(hoursAfterGrant));

    [Fact]
    public void TheSameGrantsTagDroppedAndAddedAgain_CountsTwoAdds()
    {
        var sends = TagSendLog.Count([Send(0.1, Paid), Send(1), Send(2, Paid, "Winback")], Ada, [Kit], Rules);

        var send = Assert.Single(sends);
        Assert.Equal(("kit-main", "p_ada", Paid, 2), (send.Destination, send.PersonId, send.Tag, send.Count));
        Assert.StartsWith("the grant of course-pro at 2026-11-30T12:00:00Z", send.Cause, StringComparison.Ordinal);
    }

    [Fact]
    public void OneAddPerGrant_AHealThatKeepsTheTag_AndAnAddBeforeTheGrant_AreNoDuplicates()
    {
        // Added for an earlier purchase, removed by its refund, added again for this grant: once for this cause.
        var again = TagSendLog.Count([Send(-48, Paid), Send(-24), Send(0.1, Paid), Send(3, Paid)], Ada, [Kit], Rules);
        Assert.Equal(1, Assert.Single(again).Count);

        // A tag no product grants has no cause Junction can name: not counted.
        Assert.Empty(TagSendLog.Count([Send(1, "Winback"), Send(2), Send(3, "Winback")], Ada, [Kit], Rules));
    }
}
