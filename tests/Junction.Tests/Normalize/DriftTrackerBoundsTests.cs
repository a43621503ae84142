using Junction.Normalize;
using Junction.Storage;

namespace Junction.Tests.Normalize;

/// <summary>Drift state is bounded however many types and field names the bodies invent.</summary>
public sealed class DriftTrackerBoundsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void BodiesInventingNewFieldNames_StopBeingTracked_AtTheCapPerType()
    {
        var state = new Dictionary<(string, string), DriftTypeState>();
        var tracker = new DriftTracker(state);
        var total = 0;
        for (var i = 0; i < 30; i++)
        {
            var paths = Enumerable.Range(0, 100).Select(j => $"data.invented_{i}_{j}").ToArray();
            var update = tracker.Observe([("hooks", "order.paid", $"raw-{i}", paths)], Now);
            total += update.Changes.Count(c => c.Change == "added");
        }

        Assert.Equal(DriftTracker.MaxPathsPerType, state[("hooks", "order.paid")].Paths.Count);
        // The first event sets the baseline (no "added"); later ones report only what fits under the cap.
        Assert.Equal(DriftTracker.MaxPathsPerType - 100, total);
        Assert.Equal(30, state[("hooks", "order.paid")].EventsSeen);
    }

    [Fact]
    public void BodiesInventingNewEventTypes_StopBeingTracked_AtTheCapPerSource_OtherSourcesUnaffected()
    {
        var state = new Dictionary<(string, string), DriftTypeState>();
        var tracker = new DriftTracker(state);
        for (var i = 0; i < DriftTracker.MaxTypesPerSource + 50; i++)
        {
            tracker.Observe([("hooks", $"type.{i}", $"raw-{i}", new[] { "id" })], Now);
        }
        var other = tracker.Observe([("shop", "orders/paid", "raw-x", new[] { "id" })], Now);

        Assert.Equal(DriftTracker.MaxTypesPerSource, state.Keys.Count(k => k.Item1 == "hooks"));
        Assert.Single(other.Types);
        Assert.True(state.ContainsKey(("shop", "orders/paid")));
    }

    [Fact]
    public void TheTypeCap_CountsTypesLoadedFromTheStore()
    {
        var state = Enumerable.Range(0, DriftTracker.MaxTypesPerSource)
            .ToDictionary(i => ("hooks", $"stored.{i}"), _ => new DriftTypeState { EventsSeen = 1 });
        var tracker = new DriftTracker(state);

        var update = tracker.Observe([("hooks", "brand.new", "raw-1", new[] { "id" })], Now);

        Assert.Empty(update.Types);
        Assert.False(state.ContainsKey(("hooks", "brand.new")));
    }
}
