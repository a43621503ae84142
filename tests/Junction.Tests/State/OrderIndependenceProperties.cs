using FsCheck;
using FsCheck.Fluent;
using Junction.Canonical;
using Junction.Identity;
using Junction.State;

namespace Junction.Tests.State;

/// <summary>
/// R4.5: the final state for any permutation of a person's events, with any duplicates, is identical.
/// FsCheck generates histories of two identities (a lead on a shop with a purchase token, a Stripe
/// customer) — purchases, pending orders, partial and full refunds (some reported twice, some with
/// cumulative totals), chargebacks won and lost, opt-ins, unsubscribes, spam complaints, visits,
/// tags, fulfilments, course access, operator overrides — plus a guest checkout that links the two,
/// so merges happen at whatever point the permutation puts them. Every arrival order, run through
/// identity resolution and the fold, must end in one person whose digest equals the digest of the
/// fold of the deduplicated events.
/// </summary>
public sealed class OrderIndependenceProperties
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // Mid-way (revocations may be pending, timers not yet due) and long after (everything due).
    private static readonly DateTimeOffset[] AsOf = [T0.AddHours(60), T0.AddDays(400)];

    private static readonly string[] Channels = ["email", "sms"];
    private static readonly string[] ProviderTags = ["vip", "customer", "Not In Vocabulary"];

    private sealed record Scenario(IReadOnlyList<CanonicalEvent> Events, IReadOnlyList<OperatorOverride> Overrides, CanonicalEvent[] Arrival, OperatorOverride[] OverrideArrival)
    {
        public override string ToString() =>
            string.Join(" ", Arrival.Select(e => $"{e.Id}:{e.Type}@{(e.OccurredAt - T0).TotalHours}h"));
    }

    [Fact]
    public void AnyPermutationWithDuplicates_EndsInTheSameState()
    {
        var property = Prop.ForAll(Scenarios().ToArbitrary(), scenario =>
        {
            var reference = new PersonFold(StateKit.Rules);
            reference.ApplyAll(scenario.Events.OrderBy(e => e.Id, StringComparer.Ordinal));
            foreach (var o in scenario.Overrides) reference.ApplyOverride(o);

            var folds = Project(scenario.Arrival, scenario.OverrideArrival);
            Assert.True(folds.Count == 1, $"expected one person, got {folds.Count}");
            var person = folds[0];
            foreach (var asOf in AsOf)
            {
                var expected = reference.Snapshot(asOf);
                var actual = person.Snapshot(asOf);
                if (expected.Digest() != actual.Digest()) Assert.Equal(expected.ToJson(), actual.ToJson());
            }
        });

        Check.One(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(1000).WithQuietOnSuccess(true), property);
    }

    /// <summary>What the projector stage does: resolve who the event is about, merge folds the graph merged, fold the event.</summary>
    private static List<PersonFold> Project(IEnumerable<CanonicalEvent> arrival, IEnumerable<OperatorOverride> overrides)
    {
        var graph = new InMemoryIdentityGraph(StateKit.Rules.Identity);
        var folds = new Dictionary<string, PersonFold>(StringComparer.Ordinal);
        foreach (var e in arrival)
        {
            var decision = graph.Resolve(e);
            Assert.Null(decision.Conflict);
            if (decision.PersonId is not { } id) continue;
            if (!folds.TryGetValue(id, out var fold)) folds[id] = fold = new PersonFold(StateKit.Rules);
            foreach (var merged in decision.Merged)
            {
                if (folds.Remove(merged, out var other)) fold.Absorb(other);
            }
            fold.Apply(e);
        }
        var people = folds.Values.ToList();
        if (people.Count == 1)
        {
            foreach (var o in overrides) people[0].ApplyOverride(o);
        }
        return people;
    }

    private static Gen<Scenario> Scenarios() =>
        from ops in Gen.Choose(0, 1_000_000).ArrayOf(8).ListOf().Select(l => l.Take(30).ToList())
        from orders in Gen.Choose(0, 1_000_000).ArrayOf(6).NonEmptyListOf().Select(l => l.Take(4).ToList())
        from overrides in Gen.Choose(0, 1_000_000).ArrayOf(4).ListOf().Select(l => l.Take(3).ToList())
        let built = Build(ops, orders, overrides)
        from dups in Gen.SubListOf(built.Events.ToArray())
        from arrival in Gen.Shuffle(built.Events.Concat(dups).ToArray())
        from overrideDups in Gen.SubListOf(built.Overrides.ToArray())
        from overrideArrival in Gen.Shuffle(built.Overrides.Concat(overrideDups).ToArray())
        select built with { Arrival = arrival, OverrideArrival = overrideArrival };

    private static Scenario Build(List<int[]> ops, List<int[]> orders, List<int[]> overrides)
    {
        var events = new List<CanonicalEvent>();
        var n = 0;
        string NextId() => $"ev{n++:D3}";

        // Who: 0 is the lead (shop, purchase token), 1 the Stripe customer.
        static (string Source, string Provider, Subject Subject) Identity(int who) => who == 0
            ? ("shop", "shopify", Subject.From("lead@example.com", purchaseToken: "tok_lead"))
            : ("stripe-main", "stripe", Subject.From("buyer@example.com", customerId: "cus_b"));

        CanonicalEvent Ev(string type, int hour, string source, string provider, Subject subject) => new()
        {
            Id = NextId(), RawId = "raw", Source = source, Provider = provider, Type = type,
            OccurredAt = T0.AddHours(hour), TraceId = "tr", Subject = subject,
        };

        var orderInfo = new List<(string Source, string Provider, string OrderId, long Amount)>();
        for (var k = 0; k < orders.Count; k++)
        {
            var r = orders[k];
            var who = r[0] % 2;
            var (source, provider, subject) = Identity(who);
            var amount = 1000L * (1 + (r[1] % 50));
            var item = who == 0
                ? new OrderItem { Sku = "COURSE-PRO", Amount = amount }
                : new OrderItem { PriceId = r[2] % 2 == 0 ? "price_pro" : "price_coach", Amount = amount };
            var orderId = $"o{k}";
            orderInfo.Add((source, provider, orderId, amount));
            var order = new OrderInfo { OrderId = orderId, Amount = amount, Currency = r[3] % 3 == 0 ? "EUR" : "USD", Items = [item] };
            if (r[4] % 4 <= 1) events.Add(Ev(EventTypes.OrderPending, r[5] % 48, source, provider, subject) with { Order = order });
            if (r[4] % 4 != 1) events.Add(Ev(EventTypes.OrderPaid, r[5] % 48 + r[4] % 3, source, provider, subject) with { Order = order });
        }

        // The guest checkout: the lead's purchase token with the buyer's email, on Stripe.
        events.Add(Ev(EventTypes.OrderPaid, ops.Count % 40, "stripe-main", "stripe",
            Subject.From("buyer@example.com", customerId: "cus_b", purchaseToken: "tok_lead")) with
        {
            Order = new OrderInfo { OrderId = "o_guest", Amount = 4900, Currency = "USD", Items = [new OrderItem { PriceId = "price_pro", Amount = 4900 }] },
        });

        foreach (var r in ops)
        {
            var hour = r[1] % 60;
            var who = r[2] % 2;
            var (source, provider, subject) = Identity(who);
            var o = orderInfo[r[3] % orderInfo.Count];
            switch (r[0] % 12)
            {
                case 0 or 1:
                    var refundIndex = r[4] % 3;
                    var full = r[5] % 4 == 0;
                    events.Add(Ev(EventTypes.OrderRefunded, hour, o.Source, o.Provider, new Subject()) with
                    {
                        Order = new OrderInfo
                        {
                            OrderId = o.OrderId, Currency = "USD",
                            RefundId = r[6] % 5 == 0 ? null : $"re_{o.OrderId}_{refundIndex}",
                            RefundAmount = full ? o.Amount : o.Amount / 4 * (refundIndex + 1) / 3,
                            RefundedTotal = r[7] % 3 == 0 ? o.Amount / 2 : null,
                            FullyRefunded = full ? true : null,
                        },
                    });
                    break;
                case 2:
                    var outcome = (r[4] % 3) switch { 0 => null, 1 => "won", _ => "lost" };
                    events.Add(Ev(outcome is null ? EventTypes.ChargebackOpened : EventTypes.ChargebackClosed, hour, o.Source, o.Provider, new Subject()) with
                    {
                        Order = new OrderInfo { OrderId = o.OrderId },
                        Chargeback = new ChargebackInfo { DisputeId = $"dp_{o.OrderId}", Outcome = outcome },
                    });
                    break;
                case 3 or 4 or 5:
                    var type = (r[4] % 3) switch { 0 => EventTypes.Optin, 1 => EventTypes.Unsubscribe, _ => EventTypes.SpamComplaint };
                    var consentAt = r[5] % 2 == 0 ? (DateTimeOffset?)T0.AddHours(r[6] % 10) : null;
                    events.Add(Ev(type, hour, r[7] % 5 == 0 ? source : "kit-main", r[7] % 5 == 0 ? provider : "kit", subject) with
                    {
                        Consent = [new ConsentInfo { Channel = Channels[r[4] % 2], Granted = type == EventTypes.Optin, At = consentAt, Source = "form " + (r[6] % 3) }],
                        Tags = type == EventTypes.Optin && r[7] % 2 == 0 ? [ProviderTags[r[6] % 3]] : [],
                    });
                    break;
                case 6:
                    events.Add(Ev(EventTypes.Optin, hour, "landing", "forms", subject) with
                    {
                        Attribution = new Attribution { UtmSource = "s" + (r[4] % 3), UtmCampaign = "c" + (r[5] % 4) },
                        FirstTouch = r[6] % 3 == 0 ? new Attribution { UtmCampaign = "first" + (r[7] % 2) } : null,
                    });
                    break;
                case 7:
                    events.Add(Ev(r[4] % 2 == 0 ? EventTypes.TagAdded : EventTypes.TagRemoved, hour, "kit-main", "kit", subject) with { Tags = [ProviderTags[r[5] % 3]] });
                    break;
                case 8:
                    events.Add(Ev(EventTypes.OrderFulfilled, hour, o.Source, o.Provider, new Subject()) with { Order = new OrderInfo { OrderId = o.OrderId } });
                    break;
                case 9:
                    events.Add(Ev(r[4] % 2 == 0 ? EventTypes.AccessGranted : EventTypes.AccessRevoked, hour, "teach", "teachable", subject) with
                    {
                        Access = new AccessInfo { ProductId = "crs_77" },
                    });
                    break;
                case 10:
                    events.Add(Ev(EventTypes.CheckoutStarted, hour, source, provider, subject));
                    break;
                default:
                    // A second delivery of a fact under the same id is the normalizer's job to make identical;
                    // here: a webinar and a booking.
                    events.Add(Ev(EventTypes.WebinarRegistered, hour, "zoom", "zoom", subject) with { Webinar = new WebinarInfo { WebinarId = "wb" + (r[4] % 2) } });
                    events.Add(Ev(r[5] % 2 == 0 ? EventTypes.BookingCreated : EventTypes.BookingCanceled, hour, "cal", "calendly", subject) with
                    {
                        Booking = new BookingInfo { BookingId = "bk" + (r[4] % 2) },
                    });
                    break;
            }
        }

        var ovs = overrides.Select((r, i) => new OperatorOverride
        {
            Id = $"ov{i}",
            Product = r[0] % 2 == 0 ? "course-pro" : "coaching",
            Action = (r[1] % 3) switch { 0 => OverrideActions.Grant, 1 => OverrideActions.Revoke, _ => OverrideActions.Clear },
            Reason = "support",
            At = T0.AddHours(r[2] % 10),
        }).ToList();

        return new Scenario(events, ovs, [], []);
    }
}
