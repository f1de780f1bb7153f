// The wizard's pick lists (datalists): typing stays possible, picking helps.
// - An input with data-fills-regions="ID": picking one of its list's Cloud Run services writes
//   the regions it runs in (the option's data-regions) into input ID, as if typed.
// - An input with data-region-list: a comma-separated list of regions whose list offers, after
//   what is typed, each region not yet in it (a datalist alone would replace the whole value).
(function () {
  "use strict";
  var regionsOf = {};

  function pickedOption(input) {
    var list = input.list;
    if (!list) return null;
    for (var i = 0; i < list.options.length; i++) {
      if (list.options[i].value === input.value) return list.options[i];
    }
    return null;
  }

  function fillRegions(input) {
    var opt = pickedOption(input);
    var target = document.getElementById(input.dataset.fillsRegions);
    if (!opt || !opt.dataset.regions || !target || target.value === opt.dataset.regions) return;
    target.value = opt.dataset.regions;
    // An edit form saves on change: this is one.
    target.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function offerNextRegion(input) {
    var list = input.list;
    if (!list) return;
    if (!regionsOf[list.id]) {
      regionsOf[list.id] = Array.prototype.map.call(list.options, function (o) { return o.value; });
    }
    var cut = input.value.lastIndexOf(",");
    var prefix = cut < 0 ? "" : input.value.slice(0, cut + 1).replace(/\s*$/, " ");
    var typed = prefix.split(",").map(function (r) { return r.trim(); });
    var options = regionsOf[list.id]
      .filter(function (r) { return typed.indexOf(r) < 0; })
      .map(function (r) {
        var o = document.createElement("option");
        o.value = prefix + r;
        return o;
      });
    list.replaceChildren.apply(list, options);
  }

  document.addEventListener("input", function (e) {
    var input = e.target;
    if (!(input instanceof HTMLInputElement)) return;
    if (input.dataset.fillsRegions) fillRegions(input);
    if ("regionList" in input.dataset) offerNextRegion(input);
  });
  document.addEventListener("focusin", function (e) {
    var input = e.target;
    if (input instanceof HTMLInputElement && "regionList" in input.dataset) offerNextRegion(input);
  });
})();
