using System.Globalization;
using Junction.Dispatch;
using Junction.State;

namespace Junction.Audit;

/// <summary>
/// The revenue leak audit's five points (R6.1), as a pure function of the ledger (people's state,
/// opt-ins in the window), the desired state per destination (the planner's) and what each tool
/// really holds (read back). No I/O, no clock: the caller passes the window and the read-backs.
/// A destination or payment source without a read-back is simply not compared (its checks inside
/// Junction still run). Every finding names the heal that repairs it; heals only ever touch what
/// Junction manages there (mapped tags and courses, the subscription), never a hand-set value.
/// </summary>
public static class AuditRules
{
    public static AuditResult Run(AuditInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var run = new Evaluation(input);
        var points = new List<PointReport>
        {
            run.CaptureMisrouting(),
            run.PaymentAttributionGaps(),
            run.PaidWithoutAccess(),
            run.DuplicateOrDelayedTags(),
            run.RefundLeaks(),
        };
        return new AuditResult { Points = points, Heals = run.Heals(points) };
    }

    private sealed class Evaluation(AuditInput input)
    {
        private readonly IReadOnlyList<DestinationConfig> _stateDestinations =
            [.. input.Destinations.Where(d => d.IsState && input.ReadBacks.ContainsKey(d.Id)).OrderBy(d => d.Id, StringComparer.Ordinal)];

        private readonly IReadOnlyList<AuditPerson> _people = [.. input.People.Where(p => !p.Test).OrderBy(p => p.PersonId, StringComparer.Ordinal)];

        private bool InWindow(DateTimeOffset? at) => at is { } t && t >= input.From && t <= input.To;

        // ---- 1. capture misrouting ----

        public PointReport CaptureMisrouting()
        {
            var point = new PointBuilder(input, AuditPoints.CaptureMisrouting);
            var optedIn = input.Optins.Where(o => o.ConsentGranted && InWindow(o.At))
                .GroupBy(o => o.PersonId, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Max(o => o.At), StringComparer.Ordinal);
            foreach (var person in _people)
            {
                var consent = person.State.Consent.FirstOrDefault(c => string.Equals(c.Channel, "email", StringComparison.Ordinal));
                if (optedIn.TryGetValue(person.PersonId, out var latestOptin))
                {
                    var item = point.Item();
                    // Withdrawn after the opt-in is a later decision, not a lost consent.
                    if (consent is null || (!consent.Granted && consent.At < latestOptin))
                    {
                        item.Add(new AuditFinding
                        {
                            Point = point.Number, Kind = "consent_not_recorded", PersonId = person.PersonId, Expected = "email consent granted",
                            Observed = consent is null ? "no consent recorded" : "consent withdrawn before the opt-in", HealAction = HealActions.Review,
                        });
                    }
                    else if (consent.Granted)
                    {
                        foreach (var d in _stateDestinations.Where(d => input.ReadBacks[d.Id].CoversSubscriptions))
                        {
                            if (Desired(d, person) is not { Subscribed: true } desired) continue;
                            var status = Observed(d, desired.Email)?.Status ?? "absent";
                            // Unconfirmed there is fine only while Junction itself awaits a double opt-in; otherwise
                            // the person is never mailed (a buyer created inactive before the opt-in arrived stays so).
                            if (status is ObservedStatus.Subscribed || (status is ObservedStatus.Pending && desired.Pending)) continue;
                            // Never added: re-sync adds them. Unsubscribed or inactive there: the platform
                            // (or the person) decided; Junction must not undo it, so it is for review.
                            item.Add(new AuditFinding
                            {
                                Point = point.Number, Kind = "not_subscribed", PersonId = person.PersonId, Destination = d.Id,
                                Expected = ObservedStatus.Subscribed, Observed = status,
                                HealAction = status == "absent" ? HealActions.Resync : HealActions.Review,
                            });
                        }
                    }
                    point.Done(item, null);
                }
                if (consent is { Granted: false } withdrawn && InWindow(withdrawn.At))
                {
                    var item = point.Item();
                    foreach (var d in _stateDestinations.Where(d => input.ReadBacks[d.Id].CoversSubscriptions))
                    {
                        foreach (var email in Emails(person))
                        {
                            if (Observed(d, email)?.Status is not ObservedStatus.Subscribed) continue;
                            var desired = Desired(d, person);
                            item.Add(new AuditFinding
                            {
                                Point = point.Number, Kind = "still_subscribed", PersonId = person.PersonId, Destination = d.Id,
                                Expected = ObservedStatus.Unsubscribed, Observed = ObservedStatus.Subscribed,
                                HealAction = desired is { OptedOut: true } && desired.Email == email ? HealActions.Resync : HealActions.Review,
                            });
                        }
                    }
                    point.Done(item, null);
                }
            }
            return point.Build();
        }

        // ---- 2. payment attribution gaps ----

        public PointReport PaymentAttributionGaps()
        {
            var point = new PointBuilder(input, AuditPoints.PaymentAttributionGaps);
            var ledger = new Dictionary<(string Source, string OrderId), (AuditPerson Person, OrderState Order)>();
            foreach (var person in input.People)
            {
                foreach (var order in person.State.Orders) ledger[(order.Source, order.OrderId)] = (person, order);
            }
            foreach (var person in _people)
            {
                foreach (var order in person.State.Orders.Where(o => IsPaid(o) && InWindow(o.PaidAt)))
                {
                    var item = point.Item();
                    if (person.State.Emails.Count == 0 && person.Identity.Emails.Count == 0) item.Add(Gap(person, order, "no_email", "an email for the buyer", "none"));
                    if (person.State.Attribution.FirstTouch is not { } first || (first.UtmSource is null && first.UtmCampaign is null && first.Referrer is null))
                    {
                        item.Add(Gap(person, order, "no_first_touch", "a first-touch attribution (utm_*)", "none"));
                    }
                    if (person.FirstLeadAt is not { } lead || lead > order.PaidAt)
                    {
                        item.Add(Gap(person, order, "no_prior_lead", "a lead (opt-in) before the purchase",
                            person.FirstLeadAt is { } later ? "first opt-in after the purchase" : "no opt-in"));
                    }
                    point.Done(item, order);
                }
            }
            foreach (var (source, readBack) in input.Payments.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                foreach (var payment in readBack.Payments.Where(p => !p.TestMode && InWindow(p.At)).OrderBy(p => p.OrderId, StringComparer.Ordinal))
                {
                    var item = point.Item();
                    var order = new OrderState { OrderId = payment.OrderId, Source = source, Status = payment.Status, Amount = payment.Amount, Currency = payment.Currency };
                    if (!ledger.TryGetValue((source, payment.OrderId), out var known))
                    {
                        item.Add(new AuditFinding
                        {
                            Point = point.Number, Kind = "missed_payment", OrderId = payment.OrderId, Source = source,
                            Expected = "in the ledger", Observed = $"{payment.Status} at {source}, not in the ledger (a missed webhook)",
                            HealAction = HealActions.Backfill, Amount = payment.Amount, Currency = payment.Currency,
                        });
                    }
                    else if (payment.Status == OrderStatuses.Refunded && known.Order.Status is not (OrderStatuses.Refunded or OrderStatuses.ChargebackLost))
                    {
                        item.Add(new AuditFinding
                        {
                            Point = point.Number, Kind = "missed_refund", PersonId = known.Person.PersonId, OrderId = payment.OrderId, Source = source,
                            Expected = $"{OrderStatuses.Refunded} (as {source} says)", Observed = known.Order.Status,
                            HealAction = HealActions.Backfill, Amount = payment.Amount, Currency = payment.Currency,
                        });
                    }
                    point.Done(item, order);
                }
            }
            return point.Build();
        }

        private static AuditFinding Gap(AuditPerson person, OrderState order, string kind, string expected, string observed) => new()
        {
            Point = AuditPoints.PaymentAttributionGaps, Kind = kind, PersonId = person.PersonId, OrderId = order.OrderId,
            Expected = expected, Observed = observed, HealAction = HealActions.Review, Amount = order.Amount, Currency = order.Currency,
        };

        // ---- 3. paid without access ----

        public PointReport PaidWithoutAccess()
        {
            var point = new PointBuilder(input, AuditPoints.PaidWithoutAccess);
            foreach (var person in _people)
            {
                foreach (var order in person.State.Orders.Where(o => o.Status is OrderStatuses.Paid or OrderStatuses.PartiallyRefunded && InWindow(o.PaidAt)))
                {
                    var products = ProductsOf(order);
                    if (products.Count == 0) continue;
                    var item = point.Item();
                    foreach (var product in products)
                    {
                        if (order.Status == OrderStatuses.PartiallyRefunded && product.RevokeOn == RevokeOn.AnyRefund) continue;
                        var entitlement = person.State.Entitlements.FirstOrDefault(e => e.Product == product.Id);
                        if (entitlement is { Override: true }) continue; // an operator decided
                        if (entitlement?.State is not (EntitlementStates.Active or EntitlementStates.PendingRevocation))
                        {
                            item.Add(Order(person, order, "entitlement_inactive", null, $"entitlement {product.Id} active",
                                entitlement?.State ?? "no entitlement", HealActions.Review));
                            continue;
                        }
                        foreach (var d in _stateDestinations)
                        {
                            if (Desired(d, person) is not { } desired) continue;
                            var observed = Observed(d, desired.Email);
                            if (d.Courses.TryGetValue(product.Id, out var course) && desired.Courses.Contains(course) && observed?.Courses.ContainsKey(course) != true)
                            {
                                item.Add(Order(person, order, "course_missing", d.Id, $"enrolled in course {course}",
                                    observed is null ? "no such user" : "not enrolled", HealActions.Resync));
                            }
                            foreach (var tag in DestinationTags(d, product))
                            {
                                if (!desired.Tags.Contains(tag) || observed?.Tags.ContainsKey(tag) == true) continue;
                                item.Add(Order(person, order, "tag_missing", d.Id, $"tag '{tag}'", observed is null ? "no such contact" : "tag absent", HealActions.Resync));
                            }
                        }
                    }
                    point.Done(item, order);
                }
            }
            return point.Build();
        }

        // ---- 4. duplicate or delayed tags ----

        public PointReport DuplicateOrDelayedTags()
        {
            var point = new PointBuilder(input, AuditPoints.DuplicateOrDelayedTags);
            var productTags = input.Policy.Products.SelectMany(p => p.TagsWhileActive).ToHashSet(StringComparer.Ordinal);
            var sends = input.TagSends.Where(s => s.Count > 1).ToLookup(s => (s.Destination, s.PersonId));
            foreach (var person in _people.Where(InScope))
            {
                foreach (var d in _stateDestinations)
                {
                    if (Desired(d, person) is not { } desired) continue;
                    var item = point.Item();
                    var holding = Emails(person).Where(e => Observed(d, e) is { } o && (o.Tags.Count > 0 || o.Courses.Count > 0)).ToList();
                    if (holding.Count > 1)
                    {
                        item.Add(new AuditFinding
                        {
                            Point = point.Number, Kind = "duplicate_contacts", PersonId = person.PersonId, Destination = d.Id,
                            Expected = "one contact", Observed = $"{holding.Count.ToString(CultureInfo.InvariantCulture)} contacts hold Junction's tags or courses",
                            HealAction = HealActions.Review,
                        });
                    }
                    foreach (var send in sends[(d.Id, person.PersonId)])
                    {
                        item.Add(new AuditFinding
                        {
                            Point = point.Number, Kind = "duplicate_tag_add", PersonId = person.PersonId, Destination = d.Id,
                            Expected = $"tag '{send.Tag}' added once for {send.Cause}", Observed = $"added {send.Count.ToString(CultureInfo.InvariantCulture)} times",
                            HealAction = HealActions.None,
                        });
                    }
                    var observed = Observed(d, desired.Email);
                    foreach (var entitlement in person.State.Entitlements.Where(e => e.State == EntitlementStates.Active && InWindow(e.GrantedAt)))
                    {
                        if (input.Policy.Products.FirstOrDefault(p => p.Id == entitlement.Product) is not { } product) continue;
                        foreach (var tag in DestinationTags(d, product))
                        {
                            if (observed?.Tags.GetValueOrDefault(tag) is not { } addedAt || addedAt - entitlement.GrantedAt!.Value <= input.Settings.DelayThreshold) continue;
                            item.Add(new AuditFinding
                            {
                                Point = point.Number, Kind = "delayed_tag", PersonId = person.PersonId, Destination = d.Id,
                                Expected = $"tag '{tag}' within {Format(input.Settings.DelayThreshold)} of the grant",
                                Observed = $"after {Format(addedAt - entitlement.GrantedAt!.Value)}", HealAction = HealActions.None,
                            });
                        }
                    }
                    // Managed tags that belong to no product (lifecycle, consent, custom): drift either way.
                    var managed = d.Tags.Where(t => !productTags.Contains(t.Key)).Select(t => t.Value).ToHashSet(StringComparer.Ordinal);
                    foreach (var tag in managed.Order(StringComparer.Ordinal))
                    {
                        var want = desired.Tags.Contains(tag);
                        var has = observed?.Tags.ContainsKey(tag) == true;
                        if (want == has) continue;
                        item.Add(new AuditFinding
                        {
                            Point = point.Number, Kind = want ? "tag_missing" : "tag_extra", PersonId = person.PersonId, Destination = d.Id,
                            Expected = want ? $"tag '{tag}'" : $"no tag '{tag}'", Observed = has ? $"tag '{tag}'" : "tag absent", HealAction = HealActions.Resync,
                        });
                    }
                    point.Done(item, null);
                }
            }
            return point.Build();
        }

        // ---- 5. refund and cancellation leaks ----

        public PointReport RefundLeaks()
        {
            var point = new PointBuilder(input, AuditPoints.RefundLeaks);
            foreach (var person in _people)
            {
                foreach (var order in person.State.Orders.Where(o => o.Status is OrderStatuses.Refunded or OrderStatuses.ChargebackLost || o.Refunded > 0))
                {
                    var products = ProductsOf(order).Where(p => RevokedBy(order, p)).ToList();
                    if (products.Count == 0) continue;
                    var revokedAt = products.Select(p => person.State.Entitlements.FirstOrDefault(e => e.Product == p.Id)?.RevokedAt).Max();
                    if (!InWindow(order.PaidAt) && !InWindow(revokedAt)) continue;
                    var item = point.Item();
                    foreach (var product in products)
                    {
                        // Another order that still grants it keeps the access legitimately.
                        if (person.State.Orders.Any(o => o.OrderId != order.OrderId && o.Status is OrderStatuses.Paid or OrderStatuses.PartiallyRefunded && ProductsOf(o).Contains(product) && !RevokedBy(o, product))) continue;
                        var entitlement = person.State.Entitlements.FirstOrDefault(e => e.Product == product.Id);
                        if (entitlement is { Override: true }) continue;
                        if (entitlement?.State == EntitlementStates.Active)
                        {
                            item.Add(Order(person, order, "entitlement_still_active", null, $"entitlement {product.Id} revoked", EntitlementStates.Active, HealActions.Review));
                        }
                        foreach (var d in _stateDestinations)
                        {
                            var desired = Desired(d, person);
                            foreach (var email in Emails(person))
                            {
                                if (Observed(d, email) is not { } observed) continue;
                                var heal = desired is not null && desired.Email == email ? HealActions.Resync : HealActions.Review;
                                if (d.Courses.TryGetValue(product.Id, out var course) && observed.Courses.ContainsKey(course) && desired?.Courses.Contains(course) != true)
                                {
                                    item.Add(Order(person, order, "course_leak", d.Id, "not enrolled", $"enrolled in course {course}", heal));
                                }
                                foreach (var tag in DestinationTags(d, product))
                                {
                                    if (!observed.Tags.ContainsKey(tag) || desired?.Tags.Contains(tag) == true) continue;
                                    item.Add(Order(person, order, "tag_leak", d.Id, $"no tag '{tag}'", $"tag '{tag}'", heal));
                                }
                            }
                        }
                    }
                    point.Done(item, order);
                }
            }
            return point.Build();
        }

        // ---- heals ----

        public List<HealPlan> Heals(IReadOnlyList<PointReport> points)
        {
            var heals = new List<HealPlan>();
            var resyncs = new HashSet<(string, string)>();
            var backfills = new HashSet<(string, string)>();
            foreach (var f in points.SelectMany(p => p.Findings))
            {
                if (f.HealAction == HealActions.Resync && f is { Destination: { } destination, PersonId: { } personId } && resyncs.Add((destination, personId)))
                {
                    var d = _stateDestinations.First(x => x.Id == destination);
                    var person = input.People.First(p => p.PersonId == personId);
                    heals.Add(new HealPlan { Action = HealActions.Resync, Destination = destination, PersonId = personId, Observed = Baseline(d, person) });
                }
                else if (f.HealAction == HealActions.Backfill && f is { Source: { } source, OrderId: { } orderId } && backfills.Add((source, orderId)))
                {
                    heals.Add(new HealPlan { Action = HealActions.Backfill, Source = source, OrderId = orderId, PersonId = f.PersonId });
                }
            }
            return heals;
        }

        /// <summary>What the destination holds of what Junction manages, shaped as a synced state: the connector then sends exactly the difference.</summary>
        private DesiredContact? Baseline(DestinationConfig d, AuditPerson person)
        {
            if (Desired(d, person) is not { } desired) return null;
            var observed = Observed(d, desired.Email);
            var managedTags = d.Tags.Values.ToHashSet(StringComparer.Ordinal);
            var managedCourses = d.Courses.Values.ToHashSet(StringComparer.Ordinal);
            return new DesiredContact
            {
                Email = desired.Email,
                Tags = observed is null ? [] : [.. observed.Tags.Keys.Where(managedTags.Contains).Order(StringComparer.Ordinal)],
                Courses = observed is null ? [] : [.. observed.Courses.Keys.Where(managedCourses.Contains).Order(StringComparer.Ordinal)],
                Subscribed = observed?.Status is ObservedStatus.Subscribed or ObservedStatus.Pending,
                OptedOut = observed?.Status is ObservedStatus.Unsubscribed,
            };
        }

        // ---- helpers ----

        private static DesiredContact? Desired(DestinationConfig d, AuditPerson person) => DeliveryPlanner.Desired(d, person.Identity, person.State);

        private ObservedContact? Observed(DestinationConfig d, string email) =>
            input.ReadBacks.TryGetValue(d.Id, out var readBack) && readBack.Contacts.TryGetValue(email.Trim().ToLowerInvariant(), out var contact) ? contact : null;

        private static IEnumerable<string> Emails(AuditPerson person) =>
            person.State.Emails.Concat(person.Identity.Emails).Select(e => e.Trim().ToLowerInvariant()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);

        private bool InScope(AuditPerson person) =>
            person.State.Orders.Any(o => InWindow(o.PaidAt)) || person.State.Entitlements.Any(e => InWindow(e.GrantedAt) || InWindow(e.RevokedAt))
            || person.State.Consent.Any(c => InWindow(c.At)) || input.Optins.Any(o => o.PersonId == person.PersonId && InWindow(o.At));

        private List<ProductPolicy> ProductsOf(OrderState order) =>
            [.. input.Policy.Products.Where(p => order.Items.Any(i => p.Match.Any(m => m.Matches(order.Source, i.PriceId, i.ProductId, i.Sku))))];

        private static bool RevokedBy(OrderState order, ProductPolicy product) =>
            order.Status is OrderStatuses.Refunded or OrderStatuses.ChargebackLost || (order.Refunded > 0 && product.RevokeOn == RevokeOn.AnyRefund);

        private static bool IsPaid(OrderState order) => order.PaidAt is not null && order.Status is not (OrderStatuses.Pending or OrderStatuses.Failed);

        private static IEnumerable<string> DestinationTags(DestinationConfig d, ProductPolicy product)
        {
            foreach (var tag in product.TagsWhileActive)
            {
                if (d.Tags.TryGetValue(tag, out var mapped)) yield return mapped;
            }
        }

        private static AuditFinding Order(AuditPerson person, OrderState order, string kind, string? destination, string expected, string observed, string heal) => new()
        {
            Point = 0, Kind = kind, PersonId = person.PersonId, OrderId = order.OrderId, Destination = destination,
            Expected = expected, Observed = observed, HealAction = heal, Amount = order.Amount, Currency = order.Currency,
        };

        private static string Format(TimeSpan t) =>
            t.TotalDays >= 1 ? $"{t.TotalDays:0.#}d" : t.TotalHours >= 1 ? $"{t.TotalHours:0.#}h" : t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0.#}m" : $"{t.TotalSeconds:0}s";
    }

    /// <summary>Counts checked items and mismatches for one point, drops accepted findings, sums revenue at risk once per order.</summary>
    private sealed class PointBuilder(AuditInput input, int number)
    {
        private readonly AuditPoint _point = AuditPoints.All.First(p => p.Number == number);
        private readonly List<AuditFinding> _findings = [];
        private readonly Dictionary<string, long> _revenue = new(StringComparer.Ordinal);
        private readonly HashSet<(string, string)> _ordersAtRisk = [];
        private int _checked;
        private int _mismatches;

        public int Number => number;

        public List<AuditFinding> Item()
        {
            _checked++;
            return [];
        }

        public void Done(List<AuditFinding> item, OrderState? order)
        {
            var kept = item.Select(f => f with { Point = number }).Where(f => !input.Accepted.Contains(f.Fingerprint)).ToList();
            if (kept.Count == 0) return;
            _mismatches++;
            _findings.AddRange(kept);
            if (order is { Amount: { } amount } && _ordersAtRisk.Add((order.Source, order.OrderId)))
            {
                var currency = (order.Currency ?? "").ToUpperInvariant();
                _revenue[currency] = _revenue.GetValueOrDefault(currency) + amount;
            }
        }

        public PointReport Build() => new()
        {
            Point = _point,
            Checked = _checked,
            Mismatches = _mismatches,
            Threshold = input.Settings.ThresholdOf(_point),
            Findings = _findings,
            RevenueAtRisk = _revenue,
        };
    }
}
