using Junction.Canonical;
using Junction.Identity;
using Junction.State;

namespace Junction.Tests.Identity;

/// <summary>A source anyone can post to may add identifiers to a person but never merge two people.</summary>
public sealed class UnauthenticatedMergeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly IdentityPolicy Policy = IdentityPolicy.Default with
    {
        UnauthenticatedSources = new HashSet<string>(StringComparer.Ordinal) { "landing" },
    };

    private static CanonicalEvent Ev(string id, double hours, Subject subject, string source) => new()
    {
        Id = id,
        RawId = "raw_" + id,
        Source = source,
        Provider = source == "landing" ? "form" : "api",
        Type = EventTypes.Optin,
        OccurredAt = T0.AddHours(hours),
        TraceId = "tr_" + id,
        Subject = subject,
    };

    private static (InMemoryIdentityGraph Graph, string A, string B) TwoPeople()
    {
        var g = new InMemoryIdentityGraph(Policy);
        var a = g.Resolve(Ev("e1", 1, Subject.From("ada@example.com"), "app")).PersonId!;
        var b = g.Resolve(Ev("e2", 2, Subject.From("bob@example.com", phone: "+12125550100"), "app")).PersonId!;
        return (g, a, b);
    }

    [Fact]
    public void FormPost_WithOnePersonsEmailAndAnothersPhone_DoesNotMergeThem_AndRecordsAConflict()
    {
        var (g, a, b) = TwoPeople();

        var d = g.Resolve(Ev("f1", 3, Subject.From("ada@example.com", phone: "+12125550100", purchaseToken: "jt_new"), "landing"));

        Assert.Equal(a, d.PersonId);
        Assert.Empty(d.Merged);
        Assert.Equal(2, g.PeopleCount);
        Assert.Equal(b, g.OwnerOf(IdentifierKey.Phone("+12125550100")));
        // New identifiers still attach to the person the post went to.
        Assert.Equal(a, g.OwnerOf(IdentifierKey.Token("jt_new")));
        var conflict = Assert.Single(g.Conflicts);
        Assert.Equal("f1", conflict.EventId);
        Assert.Equal([a, b], conflict.People.Order(StringComparer.Ordinal));
        Assert.Equal(IdentityResolver.UnauthenticatedMergeReason, conflict.Reason);
        Assert.Equal(a, conflict.AttachedTo);
    }

    [Fact]
    public void AFormProvidersEvent_NeverMerges_EvenFromASourceNoLongerConfigured()
    {
        var (_, a, _) = TwoPeople();
        var g = new InMemoryIdentityGraph(IdentityPolicy.Default with { UnauthenticatedProviders = new HashSet<string>(StringComparer.Ordinal) { "form" } });
        g.Resolve(Ev("e1", 1, Subject.From("ada@example.com"), "app"));
        g.Resolve(Ev("e2", 2, Subject.From("bob@example.com", phone: "+12125550100"), "app"));

        var d = g.Resolve(Ev("f1", 3, Subject.From("ada@example.com", phone: "+12125550100"), "old-landing") with { Provider = "form" });

        Assert.Equal(a, d.PersonId);
        Assert.Empty(d.Merged);
        Assert.Equal(IdentityResolver.UnauthenticatedMergeReason, Assert.Single(g.Conflicts).Reason);
    }

    [Fact]
    public void TheSameLink_FromAnAuthenticatedSource_StillMerges()
    {
        var (g, a, _) = TwoPeople();

        var d = g.Resolve(Ev("f1", 3, Subject.From("ada@example.com", phone: "+12125550100"), "app"));

        Assert.Equal(a, d.PersonId);
        Assert.Single(d.Merged);
        Assert.Equal(1, g.PeopleCount);
        Assert.Empty(g.Conflicts);
    }
}
