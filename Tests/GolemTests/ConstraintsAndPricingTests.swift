import Foundation
@testable import GolemRequestor
import GolemTesting
import Testing
import YagnaAPI
@testable import YagnaSimulator

/// Market matching and pricing: the constraint language as yagna 0.17.6 reads it, linear pricing and
/// offer scoring, the VM payload's demand, and how the simulated market applies a demand's constraints.
@Suite struct ConstraintsAndPricingTests {
    // MARK: - Fixtures

    let duration = "golem.usage.duration_sec"
    let cpu = "golem.usage.cpu_sec"
    let gpu = "golem.usage.gpu-sec"
    let imageHash = "d646d7b93083d817846c2ae5c62c72ca0507782385a2e29291a3d376"
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// An offer shaped like a real provider's (flat dotted keys, numbers, booleans, lists).
    let offer: Properties = [
        "golem.inf.mem.gib": 8.0,
        "golem.inf.cpu.threads": 4,
        "golem.inf.storage.gib": 50.0,
        "golem.runtime.name": "vm",
        "golem.runtime.version": "0.4.2",
        "golem.node.id.name": "golem-provider-7",
        "golem.node.debug.subnet": "public",
        "golem.srv.caps.multi-activity": true,
        "golem.node.net.is-public": false,
        "golem.runtime.capabilities": ["inet", "vpn", "manifest-support", "start-entrypoint"],
        "golem.activity.caps.transfer.protocol": ["gftp", "http", "https"],
        "golem.com.payment.debit-notes.accept-timeout?": 240,
        "golem.com.payment.platform.erc20-holesky-tglm.address": "0xb2",
        "golem.com.pricing.model": "linear",
    ]

    /// Whether the constraint text accepts the properties (the suite's offer by default).
    func accepts(_ text: String, _ properties: Properties? = nil) throws -> Bool {
        try Constraint.parse(text).matches(properties ?? offer)
    }

    /// The suite's offer with some keys replaced.
    func changed(_ changes: Properties) -> Properties {
        offer.merging(changes) { _, new in new }
    }

    /// Linear pricing properties as a provider states them.
    func linear(_ vector: [String], _ coeffs: [Double], scheme: String? = "payu", model: String? = "linear") -> Properties {
        var p: Properties = [
            "golem.com.usage.vector": .array(vector.map { .string($0) }),
            "golem.com.pricing.model.linear.coeffs": .array(coeffs.map { .double($0) }),
        ]
        if let scheme { p["golem.com.scheme"] = .string(scheme) }
        if let model { p["golem.com.pricing.model"] = .string(model) }
        return p
    }

    func proposal(_ properties: Properties, issuer: String = "0xp") -> Proposal {
        Proposal(
            properties: properties, constraints: "()", proposalId: "R-\(issuer)", issuerId: issuer, state: .initial,
            timestamp: WireTimestamp(Date(timeIntervalSince1970: 0)))
    }

    func score(_ strategy: some MarketStrategy, _ properties: Properties, issuer: String = "0xp", context: MarketContext = MarketContext()) -> Result<Double, OfferRejection> {
        strategy.score(proposal(properties, issuer: issuer), context: context)
    }

    func rejection(_ result: Result<Double, OfferRejection>) -> String? {
        if case .failure(let e) = result { return e.reason }
        return nil
    }

    // MARK: - Constraint syntax

    @Test func groupsParseIntoTheirStructure() throws {
        #expect(try Constraint.parse("(&(a=b)(c>=1))") == .all([.compare(attribute: "a", op: .equal, value: "b"), .compare(attribute: "c", op: .greaterOrEqual, value: "1")]))
        #expect(try Constraint.parse("(|(a<1)(a<=2)(a>3))") == .any([
            .compare(attribute: "a", op: .less, value: "1"), .compare(attribute: "a", op: .lessOrEqual, value: "2"),
            .compare(attribute: "a", op: .greater, value: "3"),
        ]))
        #expect(try Constraint.parse("(!(a=*))") == .not(.compare(attribute: "a", op: .equal, value: "*")))
        // A single comparison needs no group around it.
        #expect(try Constraint.parse("(golem.inf.mem.gib>=0.5)") == .compare(attribute: "golem.inf.mem.gib", op: .greaterOrEqual, value: "0.5"))
    }

    /// yagna's grammar skips whitespace around parentheses and group operators (`( & (a=b) )`).
    @Test func whitespaceAroundGroupsAndOperatorsIsIgnored() throws {
        let spaced = try Constraint.parse(" ( & (golem.runtime.name=vm)\n\t( | (a<1) (b>=2) )\n  ( ! (c=*) ) ) \n")
        let tight = try Constraint.parse("(&(golem.runtime.name=vm)(|(a<1)(b>=2))(!(c=*)))")
        #expect(spaced == tight)
        #expect(tight == .all([
            .compare(attribute: "golem.runtime.name", op: .equal, value: "vm"),
            .any([.compare(attribute: "a", op: .less, value: "1"), .compare(attribute: "b", op: .greaterOrEqual, value: "2")]),
            .not(.compare(attribute: "c", op: .equal, value: "*")),
        ]))
    }

    /// `()` and `(&)` hold for anything; an empty `(|)` has no true operand, so it holds for nothing.
    @Test func emptyGroupsFollowTheirLogic() throws {
        for (text, expected) in [("()", true), ("(&)", true), ("(|)", false), ("(!())", false), ("(!(|))", true), ("(&(|)(golem.runtime.name=vm))", false)] {
            #expect(try accepts(text) == expected, "\(text)")
            #expect(try accepts(text, [:]) == expected, "\(text) on no properties")
        }
    }

    @Test func numbersCompareNumerically() throws {
        let cases: [(String, Bool)] = [
            ("(golem.inf.mem.gib>=8)", true), ("(golem.inf.mem.gib>8)", false), ("(golem.inf.mem.gib<8.5)", true),
            ("(golem.inf.mem.gib<=7.99)", false), ("(golem.inf.mem.gib=8)", true), ("(golem.inf.mem.gib=8.000)", true),
            ("(golem.inf.mem.gib>=8e0)", true), ("(golem.inf.mem.gib<1e1)", true), ("(golem.inf.mem.gib>=-1)", true),
            // An integer property against a float literal, and the other way round.
            ("(golem.inf.cpu.threads=4.0)", true), ("(golem.inf.cpu.threads>4)", false), ("(golem.inf.cpu.threads<=4)", true),
            ("(golem.com.payment.debit-notes.accept-timeout?>=30)", true), ("(golem.com.payment.debit-notes.accept-timeout?<240)", false),
        ]
        for (text, expected) in cases { #expect(try accepts(text) == expected, "\(text)") }
        // The literal's form does not matter: `8` and `8.0` on the wire are the same number.
        #expect(try accepts("(m=8.0)", ["m": .number(JSONNumber(literal: "8"))]))
        #expect(try accepts("(m>=999)", ["m": .number(JSONNumber(literal: "1e3"))]))
    }

    /// A number never equals text that is not a number, whatever the operator; only presence holds.
    @Test func aNumberAgainstNonNumericTextIsFalse() throws {
        for text in ["(golem.inf.mem.gib=lots)", "(golem.inf.mem.gib>=lots)", "(golem.inf.mem.gib<lots)", "(golem.inf.mem.gib=8*)", "(golem.inf.mem.gib=)"] {
            #expect(try accepts(text) == false, "\(text)")
        }
        #expect(try accepts("(golem.inf.mem.gib=*)"))
        #expect(try accepts("(!(golem.inf.mem.gib=lots))"))
    }

    /// A string property compares as text even when it looks like a number or a version.
    @Test func stringsCompareAsTextNotAsNumbers() throws {
        let text: Properties = ["n": "10"], number: Properties = ["n": 10]
        #expect(try accepts("(n=10)", text))
        #expect(try accepts("(n=10.0)", text) == false)
        #expect(try accepts("(n>=9)", text) == false, "\"10\" sorts before \"9\"")
        #expect(try accepts("(n<9)", text))
        #expect(try accepts("(n>=9)", number))
        #expect(try accepts("(n=10.0)", number))
        // Versions are strings too: "0.4.2" sorts after "0.4.10".
        #expect(try accepts("(golem.runtime.version>=0.4.0)"))
        #expect(try accepts("(golem.runtime.version<0.4.10)") == false)
        #expect(try accepts("(golem.runtime.version>0.4.10)"))
        #expect(try accepts("(golem.runtime.name<wasm)"))
        #expect(try accepts("(golem.runtime.name>=vn)") == false)
    }

    /// Booleans answer `=` with `true` or `false`; ordering operators and other words are false.
    @Test func booleansOnlyAnswerEquality() throws {
        let cases: [(String, Bool)] = [
            ("(golem.srv.caps.multi-activity=false)", false), ("(golem.node.net.is-public=false)", true),
            ("(golem.node.net.is-public=true)", false), ("(golem.srv.caps.multi-activity>=true)", false),
            ("(golem.srv.caps.multi-activity<=true)", false), ("(golem.srv.caps.multi-activity=1)", false),
            ("(golem.srv.caps.multi-activity=yes)", false), ("(golem.node.net.is-public=*)", true),
        ]
        for (text, expected) in cases { #expect(try accepts(text) == expected, "\(text)") }
    }

    @Test func wildcardsMatchAnyRunOfCharacters() throws {
        let cases: [(String, Bool)] = [
            ("golem*", true), ("*7", true), ("*provider*", true), ("g*p*7", true), ("golem-*-7", true),
            ("golem-provider-7*", true), ("*golem-provider-7", true), ("*", true), ("**", true),
            ("*x*", false), ("golem", false), ("Golem*", false), ("*-8", false), ("golem*provider*provider*", false),
        ]
        for (pattern, expected) in cases {
            #expect(try accepts("(golem.node.id.name=\(pattern))") == expected, "\(pattern)")
        }
    }

    /// The glob matcher: a prefix, parts in order without overlap, a suffix at the very end.
    @Test func wildcardPartsMustNotOverlap() {
        let cases: [(String, String, Bool)] = [
            ("a", "a*a", false), ("aa", "a*a", true), ("abc", "ab*bc", false), ("abbc", "ab*bc", true),
            ("ba", "*a*b", false), ("ab", "*a*b", true), ("aXbXc", "a*b*c", true), ("acb", "a*b*c", false),
            ("", "*", true), ("", "", true), ("x", "", false), ("aba", "ab*ba", false), ("abba", "ab*ba", true),
        ]
        for (s, pattern, expected) in cases {
            #expect(Constraint.wildcardMatch(s, pattern) == expected, "\(s.debugDescription) ~ \(pattern.debugDescription)")
        }
    }

    /// A list property matches `=` when any element does (yagna's IN); an empty list only by presence.
    @Test func listValuedPropertiesMatchWhenAnElementDoes() throws {
        let cases: [(String, Bool)] = [
            ("(golem.runtime.capabilities=vpn)", true), ("(golem.runtime.capabilities=gpu)", false),
            ("(golem.runtime.capabilities=manifest*)", true), ("(golem.runtime.capabilities=VPN)", false),
            ("(!(golem.runtime.capabilities=gpu))", true),
            ("(&(golem.runtime.capabilities=vpn)(golem.runtime.capabilities=inet))", true),
            ("(golem.activity.caps.transfer.protocol=https)", true),
        ]
        for (text, expected) in cases { #expect(try accepts(text) == expected, "\(text)") }
        #expect(try accepts("(x=a)", ["x": []]) == false)
        #expect(try accepts("(x=*)", ["x": []]))
        let numbers: Properties = ["x": [2, 4]]
        #expect(try accepts("(x=4)", numbers))
        #expect(try accepts("(x=4.0)", numbers))
        #expect(try accepts("(x=3)", numbers) == false)
        let mixed: Properties = ["x": ["a", 1, true]]
        #expect(try accepts("(x=true)", mixed))
        #expect(try accepts("(x=1)", mixed))
        #expect(try accepts("(x=a)", mixed))
        #expect(try accepts("(x=b)", mixed) == false)
    }

    /// A property the offer lacks fails every comparison and presence; negated presence holds.
    @Test func aMissingPropertyFailsEveryComparison() throws {
        for tail in ["=nvidia", "=*", "=nv*", "=", "<1", "<=1", ">0", ">=0"] {
            #expect(try accepts("(golem.inf.gpu.model\(tail))") == false, "\(tail)")
        }
        #expect(try accepts("(!(golem.inf.gpu.model=*))"))
        #expect(try accepts("(&(golem.runtime.name=vm)(golem.inf.gpu.model=*))") == false)
        #expect(try accepts("(|(golem.inf.gpu.model=*)(golem.runtime.name=vm))"))
        // An empty value is an equality with the empty string.
        #expect(try accepts("(golem.node.id.name=)") == false)
        #expect(try accepts("(golem.node.id.name=)", ["golem.node.id.name": ""]))
    }

    @Test func nestedGroupsDecideOnEveryBranch() throws {
        let demand = try Constraint.parse("""
            (&(golem.runtime.name=vm)
            \t(|(golem.inf.mem.gib>=16)(&(golem.inf.cpu.threads>=4)(!(golem.node.id.name=bad*))))
            \t(golem.com.payment.platform.erc20-holesky-tglm.address=*))
            """)
        #expect(demand.matches(offer), "enough threads and a good name")
        #expect(!demand.matches(changed(["golem.node.id.name": "bad-apple"])), "a denied name and too little memory")
        #expect(demand.matches(changed(["golem.node.id.name": "bad-apple", "golem.inf.mem.gib": 32.0])), "memory wins over the name")
        #expect(!demand.matches(changed(["golem.inf.cpu.threads": 2])), "too few threads and too little memory")
        #expect(!demand.matches(changed(["golem.runtime.name": "wasmtime"])))
        var unpaid = offer
        unpaid.removeValue(forKey: "golem.com.payment.platform.erc20-holesky-tglm.address")
        #expect(!demand.matches(unpaid), "no address on the payment platform")
    }

    /// Nothing is an escape: a backslash is an ordinary character, as in yagna's parser, and cannot
    /// hide a closing parenthesis.
    @Test func backslashesAreOrdinaryCharacters() throws {
        #expect(try accepts(#"(golem.node.id.name=C:\dir)"#, ["golem.node.id.name": .string(#"C:\dir"#)]))
        #expect(try accepts(#"(x=\2a)"#, ["x": .string(#"\2a"#)]))
        #expect(try accepts(#"(x=\2a)"#, ["x": "*"]) == false)
        let error = #expect(throws: Constraint.SyntaxError.self) { try Constraint.parse(#"(a=x\)y)"#) }
        #expect(error?.offset == 6)
    }

    @Test func deepAndWideExpressionsParse() throws {
        func nots(_ n: Int) -> String { String(repeating: "(!", count: n) + "(golem.runtime.name=vm)" + String(repeating: ")", count: n) }
        #expect(try accepts(nots(200)))
        #expect(try accepts(nots(201)) == false)
        #expect(try Constraint.parse(nots(2)) == .not(.not(.compare(attribute: "golem.runtime.name", op: .equal, value: "vm"))))
        let wide = "(&" + String(repeating: "(golem.runtime.name=vm)", count: 500) + ")"
        #expect(try accepts(wide))
        #expect(try accepts("(|" + String(repeating: "(golem.runtime.name=wasm)", count: 500) + ")") == false)
    }

    /// Every malformed expression is refused with the character offset where parsing stopped.
    @Test func malformedConstraintsNameTheOffset() {
        let cases: [(String, Int, String)] = [
            ("a=b", 0, "expected '('"),
            (")", 0, "expected '('"),
            ("(", 1, "unterminated expression"),
            ("(a", 2, "expected an operator"),
            ("(a=b", 4, "expected ')'"),
            ("(&(a=b)", 7, "expected ')'"),
            ("(&(a=b)x)", 7, "expected ')'"),
            ("(=b)", 1, "expected an attribute name"),
            ("((a=b))", 1, "expected an attribute name"),
            ("(&(a=b)(<1))", 8, "expected an attribute name"),
            ("(a~=b)", 2, "operator '~' is not supported"),
            ("(a!=b)", 2, "operator '!' is not supported"),
            ("   (a~=b)", 5, "operator '~' is not supported"),
            ("(&(a=b)\n(c~d))", 10, "operator '~' is not supported"),
            ("(!a=b)", 2, "expected '('"),
            ("(!)", 2, "expected '('"),
            ("(a=b) trailing", 6, "unexpected text after the expression"),
            ("(a=b)(c=d)", 5, "unexpected text after the expression"),
            ("(&(a=b)))", 8, "unexpected text after the expression"),
            (#"(a=x\)y)"#, 6, "unexpected text after the expression"),
        ]
        for (text, offset, message) in cases {
            let error = #expect(throws: Constraint.SyntaxError.self, "\(text.debugDescription)") { try Constraint.parse(text) }
            #expect(error?.offset == offset, "\(text.debugDescription): \(error?.description ?? "")")
            #expect(error?.message == message, "\(text.debugDescription): \(error?.description ?? "")")
            #expect(error?.text == text)
        }
        // A lone attribute is refused where its operator should be.
        let lone = #expect(throws: Constraint.SyntaxError.self) { try Constraint.parse("(a)") }
        #expect(lone?.offset == 2)
    }

    @Test func theSyntaxErrorQuotesTheTextAndTheSupportedForms() throws {
        let thrown = #expect(throws: Constraint.SyntaxError.self) { try Constraint.parse("(a~=b)") }
        let error = try #require(thrown)
        #expect(error.description.hasPrefix(#"unsupported constraint syntax at offset 2: operator '~' is not supported in "(a~=b)". Supported: "#), "\(error)")
        #expect(error.description.contains("(attr=pre*fix)"))
    }

    // MARK: - Where the simulator's matcher is kinder than yagna 0.17.6's

    /// yagna resolves a comparison on a missing property to Undefined, `(!Undefined)` stays Undefined,
    /// and its matcher (`core/market/src/matcher/resolver.rs`) offers only on `Match::Yes`.
    @Test func aNegatedComparisonOnAMissingPropertyDoesNotMatch() throws {
        #expect(try accepts("(!(golem.node.debug.subnet=devnet))"), "present and different: both agree it matches")
        #expect(try accepts("(!(golem.node.debug.subnet=devnet))", ["golem.runtime.name": "vm"]) == false)
    }

    /// yagna reads a boolean literal with Rust's `str::parse::<bool>`, which knows only `true` and `false`.
    @Test func booleanLiteralsAreCaseSensitive() throws {
        #expect(try accepts("(golem.srv.caps.multi-activity=true)"))
        #expect(try accepts("(golem.srv.caps.multi-activity=TRUE)") == false)
    }

    /// yagna's `PropertyValue::List` answers `<`, `<=`, `>`, `>=` with false ("operator meaningless for List").
    @Test func orderingOperatorsOnAListAreFalse() throws {
        #expect(try accepts("(x=4)", ["x": [2, 4]]))
        #expect(try accepts("(x>3)", ["x": [2, 4]]) == false)
    }

    // MARK: - Linear pricing

    @Test func linearPricingReadsTheVectorItsPricesAndTheFixedPriceLast() throws {
        let pricing = try #require(LinearPricing(linear([duration, cpu, gpu], [0.25, 0.5, 2.0, 1.0])))
        #expect(pricing.usageVector == [duration, cpu, gpu])
        #expect(pricing.prices == [0.25, 0.5, 2.0])
        #expect(pricing.fixedPrice == 1.0)
        #expect(pricing.price(of: cpu) == 0.5 && pricing.price(of: gpu) == 2.0)
        #expect(pricing.price(of: "golem.usage.storage_gib") == nil)
        // The scheme is not part of the pricing model.
        #expect(LinearPricing(linear([duration, cpu, gpu], [0.25, 0.5, 2.0, 1.0], scheme: nil)) == pricing)
    }

    @Test func costIsTheFixedPricePlusEachCounterTimesItsPrice() throws {
        let pricing = try #require(LinearPricing(linear([duration, cpu, gpu], [0.25, 0.5, 2.0, 1.0])))
        #expect(pricing.cost([4, 2, 0.5]) == 4.0)  // 1 + 0.25·4 + 0.5·2 + 2·0.5
        #expect(pricing.cost([0, 0, 0]) == 1.0, "no usage costs the fixed price")
        #expect(pricing.cost([1, 0, 0]) == 1.25)
        #expect(pricing.cost([0, 0, 3]) == 7.0)
        // A usage vector of another length has no cost.
        #expect(pricing.cost([]) == nil)
        #expect(pricing.cost([1, 2]) == nil)
        #expect(pricing.cost([1, 2, 3, 4]) == nil)
    }

    @Test func aFixedPriceOnlyOfferHasAnEmptyVector() throws {
        let pricing = try #require(LinearPricing(linear([], [0.75])))
        #expect(pricing.usageVector.isEmpty && pricing.prices.isEmpty && pricing.fixedPrice == 0.75)
        #expect(pricing.cost([]) == 0.75)
        #expect(pricing.cost([1]) == nil)
        #expect(pricing.price(of: duration) == nil)
    }

    /// No linear model, or coefficients that do not fit the vector (one per counter plus the fixed price).
    @Test func misshapenPricingIsNoPricing() {
        let good = linear([duration, cpu], [0.1, 0.2, 0.5])
        #expect(LinearPricing(good) != nil)
        #expect(LinearPricing(linear([duration, cpu], [0.1, 0.2, 0.5], model: "fixed")) == nil)
        #expect(LinearPricing(linear([duration, cpu], [0.1, 0.2, 0.5], model: nil)) == nil)
        #expect(LinearPricing(linear([duration, cpu], [0.1, 0.2])) == nil, "the fixed price is missing")
        #expect(LinearPricing(linear([duration, cpu], [0.1, 0.2, 0.5, 0.7])) == nil, "one coefficient too many")
        var noVector = good
        noVector.removeValue(forKey: "golem.com.usage.vector")
        #expect(LinearPricing(noVector) == nil)
        var noCoeffs = good
        noCoeffs.removeValue(forKey: "golem.com.pricing.model.linear.coeffs")
        #expect(LinearPricing(noCoeffs) == nil)
        var textCoeff = good
        textCoeff["golem.com.pricing.model.linear.coeffs"] = JSONValue.array([.double(0.1), .string("0.2"), .double(0.5)])
        #expect(LinearPricing(textCoeff) == nil, "a coefficient written as text is not a price")
        var flatVector = good
        flatVector["golem.com.usage.vector"] = .string(duration)
        #expect(LinearPricing(flatVector) == nil)
    }

    @Test func aUsageReportReadsCountersByNameAndComparesEverything() {
        let counters: [(name: String, value: Double)] = [(name: duration, value: 12), (name: cpu, value: 1.5)]
        let report = UsageReport(counters: counters, timestamp: t0, cost: 0.25)
        #expect(report[cpu] == 1.5 && report[duration] == 12)
        #expect(report[gpu] == nil)
        #expect(report == UsageReport(counters: counters, timestamp: t0, cost: 0.25))
        #expect(report != UsageReport(counters: counters, timestamp: t0, cost: 0.5))
        #expect(report != UsageReport(counters: counters, timestamp: t0.addingTimeInterval(1), cost: 0.25))
        #expect(report != UsageReport(counters: [(name: cpu, value: 1.5), (name: duration, value: 12)], timestamp: t0, cost: 0.25))
        let mismatch = UsageMismatch(activityId: "act-1", expected: [duration, cpu], got: [3])
        #expect(mismatch.description == "activity act-1 reported 1 usage values for the offer's 2 counters (golem.usage.duration_sec, golem.usage.cpu_sec)")
    }

    // MARK: - Scoring offers

    /// yapapi's `LeastExpensiveLinearPayuMS`: 100 / (fixed + Σ price · expected usage + 1.01).
    @Test func theScoreIsAHundredOverTheExpectedCostPlusOnePointOhOne() throws {
        let properties = linear([duration, cpu], [0.001, 0.002, 0.5])
        let cost = 0.5 + 0.001 * 60 + 0.002 * 60
        #expect(try score(LeastExpensiveLinear(), properties).get() == 100 / (cost + 1.01))
        var short = LeastExpensiveLinear()
        short.expectedSeconds = 10
        let shortCost = 0.5 + 0.001 * 10 + 0.002 * 10
        #expect(try score(short, properties).get() == 100 / (shortCost + 1.01))
        short.expectedSeconds = 0
        #expect(try score(short, properties).get() == 100 / (0.5 + 1.01), "with no expected time only the fixed price counts")
        // A fixed-price-only offer is scored by its start price.
        #expect(try score(LeastExpensiveLinear(), linear([], [0.25])).get() == 100 / (0.25 + 1.01))
    }

    @Test func pricesAtTheCapsAreAcceptedAndJustAboveAreTooLow() throws {
        let s = LeastExpensiveLinear()
        #expect(rejection(score(s, linear([duration, cpu], [0.0, 0.0, 1.0]))) == nil)
        #expect(rejection(score(s, linear([duration, cpu], [0.0, 0.0, 1.0000001]))) == "Score too low")
        #expect(rejection(score(s, linear([duration, cpu], [0.1, 0.0, 0.0]))) == nil)
        #expect(rejection(score(s, linear([duration, cpu], [0.1000001, 0.0, 0.0]))) == "Score too low")
        #expect(rejection(score(s, linear([duration, cpu], [0.0, 0.2, 0.0]))) == nil)
        #expect(rejection(score(s, linear([duration, cpu], [0.0, 0.2000001, 0.0]))) == "Score too low")
        #expect(rejection(score(s, linear([duration, cpu], [0.0, 0.0, -0.01]))) == "Score too low", "a negative fixed price")
        var capped = LeastExpensiveLinear()
        capped.maxPrices[gpu] = 0.5
        #expect(rejection(score(capped, linear([duration, cpu, gpu], [0.0, 0.0, 0.5, 0.0]))) == nil)
        #expect(rejection(score(capped, linear([duration, cpu, gpu], [0.0, 0.0, 0.5000001, 0.0]))) == "Score too low")
        // A custom counter without a cap may cost anything, but never less than nothing.
        #expect(rejection(score(s, linear([duration, cpu, gpu], [0.0, 0.0, 1000.0, 0.0]))) == nil)
        #expect(rejection(score(s, linear([duration, cpu, gpu], [0.0, 0.0, -0.5, 0.0]))) == "Score too low")
    }

    /// yapapi rejects an offer it cannot price with "Unknown error in score offer".
    @Test func offersWithoutPayuOrLinearPricingAreUnknown() {
        let s = LeastExpensiveLinear()
        let unknown = "Unknown error in score offer"
        #expect(rejection(score(s, linear([duration, cpu], [0.1, 0.1, 0.1], scheme: nil))) == unknown)
        #expect(rejection(score(s, linear([duration, cpu], [0.1, 0.1, 0.1], scheme: "payu-ms"))) == unknown)
        #expect(rejection(score(s, linear([duration, cpu], [0.1, 0.1, 0.1], model: "fixed"))) == unknown)
        #expect(rejection(score(s, linear([duration, cpu], [0.1, 0.1]))) == unknown, "coefficients without the fixed price")
        // Unknown wins over price caps: the pricing is never read.
        #expect(rejection(score(s, linear([duration, cpu], [5, 5, 5], scheme: nil))) == unknown)
    }

    /// A custom counter adds its price times its expected usage; with no expected usage it adds nothing.
    @Test func customCountersArePricedByTheirExpectedUsage() throws {
        let base = try score(LeastExpensiveLinear(), linear([duration, cpu], [0.001, 0.002, 0.5])).get()
        let withGPU = linear([duration, cpu, gpu], [0.001, 0.002, 0.25, 0.5])
        #expect(try score(LeastExpensiveLinear(), withGPU).get() == base)
        var expecting = LeastExpensiveLinear()
        expecting.expectedUsage[gpu] = 2
        let cost = 0.5 + 0.001 * 60 + 0.002 * 60 + 0.25 * 2
        #expect(try score(expecting, withGPU).get() == 100 / (cost + 1.01))
        // Expected usage of a counter the offer does not price changes nothing.
        expecting.expectedUsage["golem.usage.storage_gib"] = 1000
        #expect(try score(expecting, linear([duration, cpu], [0.001, 0.002, 0.5])).get() == base)
    }

    @Test func decoratorsRejectBeforeTheyReward() throws {
        let good = linear([duration, cpu], [0.001, 0.002, 0.5])
        let dear = linear([duration, cpu], [0.001, 0.002, 2.0])
        let avoiding = AvoidFailedProviders(LeastExpensiveLinear(), confirmedBonus: 3)
        var context = MarketContext()
        context.confirmedProviders = ["0xp"]
        context.failedProviders = ["0xp"]
        #expect(rejection(score(avoiding, good, context: context)) == "Provider failed in this job", "a failure outweighs a confirmation")
        context.failedProviders = []
        #expect(rejection(score(avoiding, dear, context: context)) == "Score too low", "the base's rejection is not rewarded")

        let named = good.merging(["golem.node.id.name": "friend"]) { _, new in new }
        let both = ProviderFilter(LeastExpensiveLinear(), allowed: ["0xp", "friend"], denied: ["friend"])
        #expect(rejection(score(both, named)) == "Provider is denied", "denial wins over allowance")
        let nobody = ProviderFilter(LeastExpensiveLinear(), allowed: [])
        #expect(rejection(score(nobody, named)) == "Provider is not allowed")
        let allowed = ProviderFilter(LeastExpensiveLinear(), allowed: ["friend"])
        let dearFriend = dear.merging(["golem.node.id.name": "friend"]) { _, new in new }
        #expect(rejection(score(allowed, dearFriend)) == "Score too low", "an allowed provider is still scored")
        #expect(rejection(score(allowed, good)) == "Provider is not allowed", "a nameless provider is allowed only by id")
        // Stacked: the filter answers before the failure record is consulted.
        let stacked = ProviderFilter(AvoidFailedProviders(LeastExpensiveLinear()), denied: ["0xp"])
        var failed = MarketContext()
        failed.failedProviders = ["0xp"]
        #expect(rejection(score(stacked, good, context: failed)) == "Provider is denied")
        #expect(try score(stacked, good, issuer: "0xq", context: failed).get() == score(LeastExpensiveLinear(), good).get())
    }

    // MARK: - Configuration

    /// yapapi's platform names: `glm` on mainnet and polygon, `tglm` on test networks.
    @Test func thePaymentPlatformNamesTheTokenByNetwork() {
        var c = GolemConfiguration(budget: 1)
        #expect(c.paymentPlatform == "erc20-holesky-tglm")
        c.paymentNetwork = "mainnet"
        #expect(c.paymentPlatform == "erc20-mainnet-glm")
        c.paymentNetwork = "polygon"
        #expect(c.paymentPlatform == "erc20-polygon-glm")
        c.paymentNetwork = "amoy"
        #expect(c.paymentPlatform == "erc20-amoy-tglm")
        c.paymentDriver = "zksync"
        c.paymentNetwork = "rinkeby"
        #expect(c.paymentPlatform == "zksync-rinkeby-tglm")
    }

    @Test func theEnvironmentSetsSubnetDriverAndNetworkButEmptyValuesDoNot() {
        var c = GolemConfiguration(budget: 2)
        c.apply(environment: ["YAGNA_SUBNET": "devnet-beta", "YAGNA_PAYMENT_NETWORK": "polygon", "YAGNA_APPKEY": "secret"])
        #expect(c.subnet == "devnet-beta" && c.paymentDriver == "erc20" && c.paymentNetwork == "polygon")
        #expect(c.paymentPlatform == "erc20-polygon-glm")
        c.apply(environment: ["YAGNA_SUBNET": "", "YAGNA_PAYMENT_DRIVER": "", "YAGNA_PAYMENT_NETWORK": ""])
        #expect(c.subnet == "devnet-beta" && c.paymentDriver == "erc20" && c.paymentNetwork == "polygon")
        c.apply(environment: ["YAGNA_PAYMENT_DRIVER": "erc20next"])
        #expect(c.paymentPlatform == "erc20next-polygon-glm")
        c.apply(environment: [:])
        #expect(c.subnet == "devnet-beta" && c.budget == 2)
    }

    // MARK: - The VM payload's demand

    /// A registry that resolves any image: the hash it was asked for (or `resolved-<tag>`), at the
    /// URLs it is given. Anything but `GET /v1/image/info?…&count=true` on the registry is a 404.
    struct StubRegistry: Transport {
        var http: String? = "http://registry.test/image.gvmi"
        var https: String? = "https://registry.test/image.gvmi"
        var status = 200

        func send(_ request: YagnaRequest) async throws -> YagnaResponse {
            guard status == 200, request.service == .registry, request.method == .GET, request.path == "/v1/image/info",
                request.query.contains(QueryItem("count", "true"))
            else { return .json(status == 200 ? 404 : status, ["message": "image not found"]) }
            let hash = request.query.first { $0.name == "hash" }?.value
            let tag = request.query.first { $0.name == "tag" }?.value
            var info: [String: JSONValue] = ["sha3": .string(hash ?? "resolved-" + (tag ?? "nothing")), "size": 1]
            if let http { info["http"] = .string(http) }
            if let https { info["https"] = .string(https) }
            if let tag { info["tag"] = .string(tag) }
            return .json(200, .object(info))
        }

        func openEventStream(_ request: YagnaRequest) async throws -> EventStreamResponse { .response(try await send(request)) }
    }

    func demand(_ payload: VMPayload, _ registry: StubRegistry = StubRegistry()) async throws -> (properties: Properties, constraints: [String]) {
        try await payload.demand(registry: RegistryAPI(transport: registry))
    }

    /// What yapapi's `vm.repo` asks by default: 0.5 GiB, 2.0 GiB, 1 thread, the vm runtime.
    @Test func aDefaultImageDemandsWhatYapapiDemands() async throws {
        let d = try await demand(.image(hash: "abc123"))
        #expect(d.properties == [
            "golem.srv.comp.task_package": "hash:sha3:abc123:https://registry.test/image.gvmi",
            "golem.srv.comp.vm.package_format": "gvmkit-squash",
        ])
        #expect(d.constraints == ["(golem.inf.mem.gib>=0.5)", "(golem.inf.storage.gib>=2.0)", "(golem.inf.cpu.threads>=1)", "(golem.runtime.name=vm)"])
    }

    @Test func resourcesAndCapabilitiesBecomeConstraintsInOrder() async throws {
        var payload = VMPayload.image(hash: "abc123", minMemoryGiB: 4, minStorageGiB: 16.5, minCPUThreads: 8)
        payload.capabilities = ["vpn", "inet"]
        let d = try await demand(payload)
        #expect(d.constraints == [
            "(golem.inf.mem.gib>=4.0)", "(golem.inf.storage.gib>=16.5)", "(golem.inf.cpu.threads>=8)", "(golem.runtime.name=vm)",
            "(golem.runtime.capabilities=vpn)", "(golem.runtime.capabilities=inet)",
        ])
        // Every constraint is one the simulated market can parse.
        for c in d.constraints { _ = try Constraint.parse(c) }
    }

    @Test func theImageIsResolvedByTagAndPlainHTTPServesWithoutHTTPS() async throws {
        let tagged = try await demand(.image(tag: "golem/alpine:latest"))
        #expect(tagged.properties["golem.srv.comp.task_package"] == "hash:sha3:resolved-golem/alpine:latest:https://registry.test/image.gvmi")
        #expect(tagged.constraints.first == "(golem.inf.mem.gib>=0.5)", "a tag keeps the default resources")
        let plain = try await demand(.image(hash: "abc123"), StubRegistry(https: nil))
        #expect(plain.properties["golem.srv.comp.task_package"] == "hash:sha3:abc123:http://registry.test/image.gvmi")
    }

    @Test func anUnknownImageFailsTheDemand() async {
        await #expect(throws: YagnaError.self) { try await demand(.image(hash: "nope"), StubRegistry(status: 404)) }
    }

    /// The payload's constraints, joined as the engine joins them, against offers the simulated
    /// providers make.
    @Test func thePayloadsConstraintsSelectProviders() async throws {
        func accepted(_ payload: VMPayload, _ spec: ProviderSpec = ProviderSpec(name: "p")) async throws -> Bool {
            let d = try await demand(payload)
            let text = "(&" + (["(golem.node.debug.subnet=public)", "(golem.com.pricing.model=linear)"] + d.constraints).joined(separator: "\n\t") + ")"
            return try Constraint.parse(text).matches(NodeCore.offerProperties(spec, id: "0xp"))
        }
        #expect(try await accepted(.image(hash: imageHash)))
        #expect(try await accepted(.image(hash: imageHash, minMemoryGiB: 16)) == false, "the default offer has 8 GiB")
        var big = ProviderSpec(name: "big")
        big.properties["golem.inf.mem.gib"] = 32.0
        #expect(try await accepted(.image(hash: imageHash, minMemoryGiB: 16), big))
        #expect(try await accepted(.image(hash: imageHash, minStorageGiB: 50)), "50 GiB of storage is enough for 50")
        #expect(try await accepted(.image(hash: imageHash, minStorageGiB: 50.5)) == false)
        #expect(try await accepted(.image(hash: imageHash, minCPUThreads: 8)) == false, "the default offer has 4 threads")
        var vpn = VMPayload.image(hash: imageHash)
        vpn.capabilities = ["vpn", "manifest-support"]
        #expect(try await accepted(vpn))
        var gpu = VMPayload.image(hash: imageHash)
        gpu.capabilities = ["cuda"]
        #expect(try await accepted(gpu) == false)
    }

    /// The whole way: the engine's demand carries the payload, the node offers only the provider
    /// whose offer satisfies it, and that provider does the work.
    @Test func theEnginesDemandReachesOnlyMatchingProviders() async throws {
        let scenario = try Scenario.parse(yaml: """
            name: sizes
            providers:
              - {name: small, offer-delay: 10ms}
              - name: big
                offer-delay: 2s
                properties:
                  golem.inf.mem.gib: 64.0
                  golem.inf.cpu.threads: 16
            """)
        let payload: VMPayload = {
            var p = VMPayload.image(hash: imageHash, minMemoryGiB: 16, minStorageGiB: 10, minCPUThreads: 8)
            p.capabilities = ["vpn"]
            return p
        }()
        let report = try await SimulatedNetwork.run(scenario: scenario) { golem in
            let results = try await golem.executeTasks([1], payload: payload, maxWorkers: 1, timeout: .seconds(600)) { ctx, _ in ctx.provider }
            #expect(results.map(\.value) == ["big"])
        }
        #expect(report.passed, "\(report.failures)")
        #expect(report.state.agreements.map(\.providerName) == ["big"], "the small provider was never offered")
        let posted = try #require(report.journal.first { $0.method == "POST" && $0.path == "/market-api/v1/demands" })
        let body = try WireDecoder().decode(DemandBody.self, from: posted.requestBody)
        let task = body.properties["golem.srv.comp.task_package"]?.stringValue ?? ""
        #expect(task.hasPrefix("hash:sha3:\(imageHash):") && task.hasSuffix("/images/\(imageHash).gvmi"), "\(task)")
        #expect(body.properties["golem.srv.comp.vm.package_format"] == "gvmkit-squash")
        #expect(body.properties["golem.node.debug.subnet"] == "public")
        #expect(body.properties["golem.srv.caps.multi-activity"] == true)
        #expect(body.constraints.hasPrefix("(&(golem.node.debug.subnet=public)\n\t"), "\(body.constraints)")
        let payloadPart = "\n\t(golem.com.pricing.model=linear)\n\t(golem.inf.mem.gib>=16.0)\n\t(golem.inf.storage.gib>=10.0)"
            + "\n\t(golem.inf.cpu.threads>=8)\n\t(golem.runtime.name=vm)\n\t(golem.runtime.capabilities=vpn))"
        #expect(body.constraints.hasSuffix(payloadPart), "\(body.constraints)")
        let constraint = try Constraint.parse(body.constraints)
        #expect(constraint.matches(NodeCore.offerProperties(scenario.providers[1], id: "0xbig")))
        #expect(!constraint.matches(NodeCore.offerProperties(scenario.providers[0], id: "0xsmall")))
    }

    // MARK: - The simulated market

    func node(_ yaml: String) throws -> NodeCore {
        NodeCore(scenario: try Scenario.parse(yaml: yaml), seed: 3, appKey: "key", files: InMemoryFileExchange())
    }

    func send(_ node: inout NodeCore, _ method: HTTPMethod, _ path: String, _ body: JSONValue? = nil, at time: Date) -> YagnaResponse? {
        var headers = [Header("Authorization", "Bearer key")]
        if body != nil { headers.append(Header("Content-Type", "application/json")) }
        let request = NodeRequest(method: method, path: path, headers: headers, body: body.map { JSONWriter.bytes($0) } ?? [])
        if case .respond(let response) = node.handle(request, now: time) { return response }
        return nil
    }

    func demandBody(_ constraints: String, _ properties: JSONValue = .object([:])) -> JSONValue {
        .object(["properties": properties, "constraints": .string(constraints)])
    }

    func subscribe(_ node: inout NodeCore, _ constraints: String, _ properties: JSONValue = .object([:]), at time: Date) throws -> String {
        let response = send(&node, .POST, "/market-api/v1/demands", demandBody(constraints, properties), at: time)
        let r = try #require(response)
        #expect(r.status == 201, "\(String(decoding: r.body, as: UTF8.self))")
        return try #require(try JSONParser.parse(r.body).stringValue)
    }

    /// The offers (proposals) a subscription has collected by `time`.
    func offers(_ node: inout NodeCore, _ subscription: String, at time: Date) throws -> [Proposal] {
        let response = node.retry(.demandEvents(subscriptionId: subscription, maxEvents: 100), now: time, final: true)
        let r = try #require(response)
        return try WireDecoder().decode([MarketEvent].self, from: r.body).compactMap { e -> Proposal? in
            if case .proposal(_, let p) = e { p } else { nil }
        }
    }

    func names(_ proposals: [Proposal]) -> [String] { proposals.map { $0.properties["golem.node.id.name"]?.stringValue ?? "?" } }

    @Test func theNodeOffersOnlyProvidersWhoseOffersSatisfyTheDemand() throws {
        var n = try node("""
            name: m
            providers:
              - {name: small, offer-delay: 1s}
              - name: big
                offer-delay: 1s
                properties:
                  golem.inf.mem.gib: 64.0
            """)
        let large = try subscribe(&n, "(golem.inf.mem.gib>=16)", at: t0)
        let modest = try subscribe(&n, "(&(golem.inf.mem.gib>=4)(golem.runtime.name=vm))", at: t0)
        let empty = try subscribe(&n, "(|)", at: t0)
        let wasm = try subscribe(&n, "(golem.runtime.name=wasm*)", at: t0)
        let later = t0.addingTimeInterval(1)
        let largeOffers = try offers(&n, large, at: later)
        let anyOffers = try offers(&n, modest, at: later)
        let noOffers = try offers(&n, empty, at: later)
        let wasmOffers = try offers(&n, wasm, at: later)
        #expect(names(largeOffers) == ["big"])
        #expect(Set(names(anyOffers)) == ["small", "big"])
        #expect(noOffers.isEmpty)
        #expect(wasmOffers.isEmpty)
    }

    @Test func aMalformedDemandIsRefusedWithTheOffsetAndNotStored() throws {
        var n = try node("name: m\nproviders:\n  - name: p\n")
        let refused = send(&n, .POST, "/market-api/v1/demands", demandBody("(&(golem.runtime.name=vm)(golem.inf.mem.gib~=4))"), at: t0)
        let r = try #require(refused)
        #expect(r.status == 400)
        let message = try JSONParser.parse(r.body)["message"]?.stringValue ?? ""
        #expect(message.hasPrefix("invalid demand constraints: unsupported constraint syntax at offset 43: operator '~' is not supported"), "\(message)")
        let listed = send(&n, .GET, "/market-api/v1/demands", at: t0)
        let list = try #require(listed)
        #expect(try WireDecoder().decode([Demand].self, from: list.body).isEmpty)
    }

    /// The daemon stores constraints as given and properties flattened to dotted keys.
    @Test func aDemandIsStoredWithItsTextAndFlatProperties() throws {
        var n = try node("name: m\nproviders:\n  - name: p\n")
        let constraints = "(&(golem.runtime.name=vm)\n\t(golem.inf.mem.gib>=0.5))"
        let nested: JSONValue = [
            "golem": ["srv": ["comp": ["expiration": 1_800_000_900_000]], "node": ["debug": ["subnet": "public"]]],
            "golem.srv.caps.multi-activity": true,
        ]
        let id = try subscribe(&n, constraints, nested, at: t0)
        let listed = send(&n, .GET, "/market-api/v1/demands", at: t0)
        let list = try #require(listed)
        let stored = try #require(try WireDecoder().decode([Demand].self, from: list.body).first)
        #expect(stored.demandId == id)
        #expect(stored.constraints == constraints)
        #expect(stored.properties == [
            "golem.srv.comp.expiration": 1_800_000_900_000, "golem.node.debug.subnet": "public", "golem.srv.caps.multi-activity": true,
        ])
    }

    @Test func flatteningJoinsNestedKeysAndKeepsLeaves() {
        let flat = NodeCore.flatten([
            "a": ["b": ["c": 1], "d": [1, 2]],
            "e": .object([:]),
            "f.g": "x",
            "h": ["i": .null],
        ])
        #expect(flat == ["a.b.c": 1, "a.d": [1, 2], "e": .object([:]), "f.g": "x", "h.i": .null])
    }

    /// The provider's draft is its offer plus what it agreed to: the `…?` keys and the chosen platform.
    @Test func theProvidersCounterEchoesTheChosenPlatformButNotOtherDemandKeys() {
        let offer: Properties = ["golem.com.payment.platform.erc20-holesky-tglm.address": "0xp", "golem.inf.mem.gib": 8.0]
        let counter = NodeCore.counterProperties(offer: offer, requestor: [
            "golem.com.payment.chosen-platform": "erc20-holesky-tglm", "golem.srv.comp.expiration": 5, "golem.inf.mem.gib": 1.0,
        ])
        #expect(counter == [
            "golem.com.payment.platform.erc20-holesky-tglm.address": "0xp", "golem.inf.mem.gib": 8.0,
            "golem.com.payment.chosen-platform": "erc20-holesky-tglm",
        ])
    }

    /// yagna validates a counter-proposal against the proposal it counters (`validate_match` in
    /// `negotiation/common.rs`) and answers 400 "Mismatched constraints" when they do not match.
    @Test func aCounterThatCannotMatchTheOfferIsRefused() throws {
        var n = try node("name: m\nproviders:\n  - name: p\n    offer-delay: 0s\n    response-delay: 0s\n")
        let sub = try subscribe(&n, "(golem.runtime.name=vm)", at: t0)
        let initialOffers = try offers(&n, sub, at: t0)
        let initial = try #require(initialOffers.first)
        #expect(initial.properties["golem.inf.mem.gib"] == 8.0)
        let body: JSONValue = demandBody("(golem.inf.mem.gib>=1000)", ["golem.srv.comp.expiration": 1_800_000_900_000])
        let path = "/market-api/v1/demands/\(sub)/proposals/\(initial.proposalId)"
        let r = send(&n, .POST, path, body, at: t0)
        #expect(r?.status == 400)
        let text = r.map { String(decoding: $0.body, as: UTF8.self) } ?? ""
        #expect(text.contains("doesn't match previous Proposal [\(initial.proposalId)]. Mismatched constraints - Offer: [], Demand: []"), "\(text)")
        // Undefined is no match either, and names the property the offer's constraints lacked on the counter.
        let noExpiration: JSONValue = demandBody("(golem.runtime.name=vm)", ["golem.node.debug.subnet": "public"])
        let undefined = send(&n, .POST, path, noExpiration, at: t0)
        #expect(undefined?.status == 400)
        #expect(undefined.map { String(decoding: $0.body, as: UTF8.self) }?.contains(#"Demand: [\"golem.srv.comp.expiration\"]"#) == true)
        // A refused counter does not use the proposal up: a matching one is still taken.
        let good: JSONValue = demandBody("(golem.runtime.name=vm)", ["golem.srv.comp.expiration": 1_800_000_900_000])
        #expect(send(&n, .POST, path, good, at: t0)?.status == 200)
    }
}
