using Junction.Canonical;
using Junction.Identity;
using Junction.State;

namespace Junction.Tests.Identity;

public sealed class IdentityGraphTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static CanonicalEvent Ev(string id, double hours, Subject subject, string source = "stripe-main", string type = EventTypes.OrderPaid, string? orderId = null, string? provider = null) => new()
    {
        Id = id,
        RawId = "raw_" + id,
        Source = source,
        Provider = provider ?? source,
        Type = type,
        OccurredAt = T0.AddHours(hours),
        TraceId = "tr_" + id,
        Subject = subject,
        Order = orderId is null ? null : new OrderInfo { OrderId = orderId },
    };

    private static Subject Email(string email) => Subject.From(email);

    [Fact]
    public void SameEmail_DifferentCaseAndSpaces_IsOnePerson_AndTheRawValueIsKept()
    {
        var g = new InMemoryIdentityGraph();
        var a = g.Resolve(Ev("e1", 1, Email("Ada@Example.com"))).PersonId;
        var b = g.Resolve(Ev("e2", 2, Email("  ada@example.COM "))).PersonId;

        Assert.Equal(a, b);
        Assert.Equal(1, g.PeopleCount);
        Assert.Equal("Ada@Example.com", Assert.Single(g.Person(a!)!.Identifiers).Raw);
    }

    [Fact]
    public void PlusAddresses_AreNotCollapsed()
    {
        var g = new InMemoryIdentityGraph();
        var a = g.Resolve(Ev("e1", 1, Email("ada@example.com"))).PersonId;
        var b = g.Resolve(Ev("e2", 2, Email("ada+news@example.com"))).PersonId;

        Assert.NotEqual(a, b);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("unknown")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("anonymous")]
    [InlineData(" ")]
    public void JunkCustomerIds_NeverLink(string junk)
    {
        var g = new InMemoryIdentityGraph();
        var a = g.Resolve(Ev("e1", 1, Subject.From("ada@example.com", customerId: "x") with { CustomerId = junk }));
        var b = g.Resolve(Ev("e2", 2, Subject.From("bob@example.com") with { CustomerId = junk }));

        Assert.NotEqual(a.PersonId, b.PersonId);
        Assert.DoesNotContain(g.Person(a.PersonId!)!.Identifiers, i => i.Key.Type == IdentifierType.CustomerId);
    }

    [Fact]
    public void ConfiguredJunkEmail_NeverLinks()
    {
        var g = new InMemoryIdentityGraph(new IdentityPolicy { JunkValues = ["test@example.com"] });
        var a = g.Resolve(Ev("e1", 1, Subject.From("Test@Example.com", customerId: "cus_1")));
        var b = g.Resolve(Ev("e2", 2, Subject.From("test@example.com", customerId: "cus_2")));

        Assert.NotEqual(a.PersonId, b.PersonId);
        Assert.Contains(a.Dropped, d => d.Key.Type == IdentifierType.Email && d.Reason == "junk value");
    }

    [Fact]
    public void EventWithoutUsableIdentifiers_BelongsToNobody()
    {
        var g = new InMemoryIdentityGraph();
        var d = g.Resolve(Ev("e1", 1, new Subject()));

        Assert.Null(d.PersonId);
        Assert.Equal(0, g.PeopleCount);
    }

    [Fact]
    public void EventLinkingTwoPeople_MergesThem_OldestSurvives_AndTheMergedIdResolvesToIt()
    {
        var g = new InMemoryIdentityGraph();
        var newer = g.Resolve(Ev("e1", 10, Subject.From(null, phone: "+14155550100"), "form", EventTypes.Optin)).PersonId!;
        var older = g.Resolve(Ev("e2", 1, Email("ada@example.com"), "kit", EventTypes.Optin)).PersonId!;

        var d = g.Resolve(Ev("e3", 20, Subject.From("ada@example.com", phone: "+1 415 555 0100"), "kit", EventTypes.Optin));

        Assert.Equal(older, d.PersonId);
        Assert.Equal([newer], d.Merged);
        Assert.Equal(older, g.Canonical(newer));
        Assert.Equal(older, g.Person(newer)!.Id);
        var entry = Assert.Single(g.Log);
        Assert.Equal(("merge", older, newer, "e3"), (entry.Kind, entry.PersonId, entry.MergedId, entry.EventId));
        Assert.Equal(older, g.OwnerOf(IdentifierKey.Phone("+14155550100")));
    }

    [Fact]
    public void MergeThatWouldBreakACustomerIdLimit_DropsTheLowestPriorityLink_AndGoesToTheCustomer()
    {
        var g = new InMemoryIdentityGraph();
        var ada = g.Resolve(Ev("e1", 1, Subject.From("ada@example.com", customerId: "cus_1"))).PersonId!;
        var other = g.Resolve(Ev("e2", 2, Subject.From("other@example.com", customerId: "cus_2"))).PersonId!;

        // A checkout under Stripe customer cus_2 with Ada's email: two Stripe customers cannot be one person.
        var d = g.Resolve(Ev("e3", 3, Subject.From("ada@example.com", customerId: "cus_2")));

        Assert.Equal(other, d.PersonId);
        Assert.Empty(d.Merged);
        Assert.Null(d.Conflict);
        Assert.Contains(d.Dropped, x => x.Key == IdentifierKey.Email("ada@example.com"));
        Assert.Equal(ada, g.OwnerOf(IdentifierKey.Email("ada@example.com")));
        Assert.Equal(2, g.PeopleCount);
    }

    [Fact]
    public void StillInConflictAfterTheDrop_NoMerge_AttachesToTheHighestPriorityMatch_AndRecordsTheConflict()
    {
        var g = new InMemoryIdentityGraph(new IdentityPolicy { EmailLimit = 1 });
        var ada = g.Resolve(Ev("e1", 1, Subject.From("ada@example.com", phone: "+14155550100"), "kit", EventTypes.Optin)).PersonId!;
        var bob = g.Resolve(Ev("e2", 2, Subject.From("bob@example.com") with { AnonymousId = "anon-7" }, "kit", EventTypes.Optin)).PersonId!;

        // Email and anonymous id → Bob, phone → Ada; merging breaks the 1-email limit. Dropping the
        // lowest-priority link (the anonymous id) still leaves Bob and Ada: a conflict.
        var d = g.Resolve(Ev("e3", 3, Subject.From("bob@example.com", phone: "+14155550100") with { AnonymousId = "anon-7" }, "kit", EventTypes.Optin));

        Assert.Equal(bob, d.PersonId); // email outranks phone
        Assert.Empty(d.Merged);
        var conflict = Assert.Single(g.Conflicts);
        Assert.Equal(new[] { ada, bob }.Order(StringComparer.Ordinal), conflict.People);
        Assert.Equal(bob, conflict.AttachedTo);
        Assert.Contains(d.Dropped, x => x.Key == IdentifierKey.Anonymous("anon-7"));
        Assert.Equal(2, g.PeopleCount);
    }

    [Fact]
    public void EmailLimit_StopsAFifthAddressBeyondTheLimit()
    {
        var g = new InMemoryIdentityGraph(new IdentityPolicy { EmailLimit = 2 });
        var p = g.Resolve(Ev("e1", 1, Subject.From("a@example.com", customerId: "cus_1"))).PersonId!;
        g.Resolve(Ev("e2", 2, Subject.From("b@example.com", customerId: "cus_1")));
        var d = g.Resolve(Ev("e3", 3, Subject.From("c@example.com", customerId: "cus_1")));

        Assert.Equal(p, d.PersonId);
        Assert.Contains(d.Dropped, x => x.Key == IdentifierKey.Email("c@example.com"));
        Assert.Null(g.OwnerOf(IdentifierKey.Email("c@example.com")));
        Assert.Equal(2, g.Person(p)!.Emails.Count);
    }

    [Fact]
    public void CustomerIds_AreScopedToTheirSource()
    {
        var g = new InMemoryIdentityGraph();
        var a = g.Resolve(Ev("e1", 1, Subject.From(null, customerId: "123"), "shop")).PersonId;
        var b = g.Resolve(Ev("e2", 2, Subject.From(null, customerId: "123"), "woo")).PersonId;

        Assert.NotEqual(a, b);
    }

    [Fact]
    public void GuestCheckoutWithAnotherEmail_JoinsTheLeadThroughThePurchaseToken_KeepingBothEmails()
    {
        var g = new InMemoryIdentityGraph();
        var lead = g.Resolve(Ev("e1", 1, Subject.From("ada@example.com", purchaseToken: "tok_9"), "form", EventTypes.Optin)).PersonId!;

        var d = g.Resolve(Ev("e2", 2, Subject.From("ada.work@example.com", customerId: "cus_1", purchaseToken: "tok_9"), orderId: "cs_1"));

        Assert.Equal(lead, d.PersonId);
        var person = g.Person(lead)!;
        Assert.Equal(["ada.work@example.com", "ada@example.com"], person.Emails.Order(StringComparer.Ordinal));
        Assert.Equal(("ada.work@example.com", "ada@example.com"), (person.PurchaseEmail, person.PrimaryEmail));
    }

    [Fact]
    public void GuestCheckoutWithAnotherEmail_JoinsTheLeadThroughTheOrderId()
    {
        var g = new InMemoryIdentityGraph();
        var lead = g.Resolve(Ev("e1", 1, Email("ada@example.com"), type: EventTypes.OrderPending, orderId: "o_55")).PersonId!;

        var paid = g.Resolve(Ev("e2", 2, Email("ada.work@example.com"), orderId: "o_55"));
        var refund = g.Resolve(Ev("e3", 3, new Subject(), type: EventTypes.OrderRefunded, orderId: "o_55"));

        Assert.Equal(lead, paid.PersonId);
        Assert.Equal(lead, refund.PersonId);
        Assert.Equal(2, g.Person(lead)!.Emails.Count);
    }

    [Fact]
    public void OrderIdLinkingTwoKnownPeople_MergesThem()
    {
        var g = new InMemoryIdentityGraph();
        var lead = g.Resolve(Ev("e1", 1, Email("ada@example.com"), type: EventTypes.OrderPending, orderId: "o_55")).PersonId!;
        var buyer = g.Resolve(Ev("e2", 2, Email("ada.work@example.com"), "kit", EventTypes.Optin)).PersonId!;

        var d = g.Resolve(Ev("e3", 3, Email("ada.work@example.com"), orderId: "o_55"));

        Assert.Equal((lead, buyer), (d.PersonId, Assert.Single(d.Merged)));
    }

    [Fact]
    public void EmailChanged_UpdatesThePerson_NeverCreatesASecondOne()
    {
        var g = new InMemoryIdentityGraph();
        var p = g.Resolve(Ev("e1", 1, Email("ada@example.com"), "kit", EventTypes.Optin)).PersonId!;

        var d = g.Resolve(Ev("e2", 2, Email("ada@new.example") with { PreviousEmail = "ada@example.com" }, "kit", EventTypes.EmailChanged));

        Assert.Equal(p, d.PersonId);
        Assert.False(d.CreatesPerson);
        Assert.Equal(1, g.PeopleCount);
        Assert.Equal("ada@new.example", g.Person(p)!.PrimaryEmail);
        Assert.Equal(p, g.Resolve(Ev("e3", 3, Email("ada@new.example"), "kit", EventTypes.Optin)).PersonId);
    }

    [Fact]
    public void EmailChanged_AtTheEmailLimit_RetiresTheOldAddress()
    {
        var g = new InMemoryIdentityGraph(new IdentityPolicy { EmailLimit = 1 });
        var p = g.Resolve(Ev("e1", 1, Email("ada@example.com"), "kit", EventTypes.Optin)).PersonId!;

        var d = g.Resolve(Ev("e2", 2, Email("ada@new.example") with { PreviousEmail = "ada@example.com" }, "kit", EventTypes.EmailChanged));

        Assert.Equal(p, d.PersonId);
        Assert.Equal(["ada@new.example"], g.Person(p)!.Emails);
        Assert.Equal("retire", Assert.Single(g.Log).Kind);
    }

    [Fact]
    public void Detach_FreesAWronglyLinkedIdentifier_AndKeepsHistory()
    {
        var g = new InMemoryIdentityGraph();
        var p = g.Resolve(Ev("e1", 1, Subject.From("ada@example.com", purchaseToken: "tok_shared"), "form", EventTypes.Optin)).PersonId!;
        g.Resolve(Ev("e2", 2, Subject.From("bob@example.com", purchaseToken: "tok_shared"), "form", EventTypes.Optin));

        Assert.True(g.Detach(IdentifierKey.Email("bob@example.com"), "shared token, different human", T0.AddHours(3)));

        Assert.DoesNotContain("bob@example.com", g.Person(p)!.Emails);
        var entry = Assert.Single(g.Log);
        Assert.Equal(("detach", p, "shared token, different human"), (entry.Kind, entry.PersonId, entry.Reason));
        var bob = g.Resolve(Ev("e3", 4, Email("bob@example.com"), "kit", EventTypes.Optin));
        Assert.True(bob.CreatesPerson);
        Assert.False(g.Detach(IdentifierKey.Email("nobody@example.com"), "x", T0));
    }

    [Fact]
    public void PersonIds_AreDeterministic_ForTheSameLog()
    {
        static string Run()
        {
            var g = new InMemoryIdentityGraph();
            return g.Resolve(Ev("e1", 1, Email("ada@example.com"))).PersonId!;
        }

        Assert.Equal(Run(), Run());
        Assert.StartsWith("p_", Run(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("email:Ada@Example.com", "email:ada@example.com")]
    [InlineData("customer_id:stripe-main:cus_1", "customer_id:stripe-main:cus_1")]
    [InlineData("order_id:shop:1001", "order_id:shop:1001")]
    [InlineData("phone:+1 415 555 0100", "phone:+14155550100")]
    public void IdentifierKey_ParsesTheApiForm(string text, string expected)
    {
        Assert.True(IdentifierKey.TryParse(text, out var key));
        Assert.Equal(expected, key.ToString());
    }

    [Fact]
    public void Identifiers_AreConsideredInPriorityOrder()
    {
        var e = Ev("e1", 1, Subject.From("ada@example.com", customerId: "cus_1", purchaseToken: "tok", phone: "+14155550100") with { AnonymousId = "anon" }, orderId: "o1");

        var types = IdentifierExtraction.Extract(e, IdentityPolicy.Default).Select(i => i.Key.Type);

        Assert.Equal([IdentifierType.CustomerId, IdentifierType.Email, IdentifierType.Phone, IdentifierType.PurchaseToken, IdentifierType.OrderId, IdentifierType.AnonymousId], types);
    }
}
