// The 3D defect map: the part type's model in three.js (served by the app, see requirements/npm.json),
// defects placed by clicking the model (posted to the API), and the server's heatmap drawn as coloured
// spots. Without WebGL the page keeps its tables, which the server renders for every browser.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { STLLoader } from 'three/addons/loaders/STLLoader.js';

const HEAT = ['#2b6cb0', '#38a169', '#ecc94b', '#dd6b20', '#c53030'];
const root = document.querySelector('[data-defect-map]');

function webglAvailable() {
  try {
    const canvas = document.createElement('canvas');
    return Boolean(window.WebGLRenderingContext && (canvas.getContext('webgl2') || canvas.getContext('webgl')));
  } catch (e) {
    return false;
  }
}

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute('hx-headers') || '{}')['X-CSRFToken'] || '';
  } catch (e) {
    return '';
  }
}

function showError(message) {
  const box = root.querySelector('[data-map-error]');
  box.querySelector('[data-map-error-text]').textContent = message;
  box.hidden = false;
}

function fallBackToTable() {
  root.classList.add('map-no-webgl');
  root.dataset.state = 'table';
  root.querySelector('[data-map-nowebgl]').hidden = false;
}

async function apiError(response) {
  try {
    const body = await response.json();
    const error = body.error || {};
    const fields = Object.entries(error.fields || {}).map(([k, v]) => `${k}: ${[].concat(v).join(', ')}`);
    return error.message || fields.join('; ') || `The server answered ${response.status}.`;
  } catch (e) {
    return `The server answered ${response.status}.`;
  }
}

function heatColour(count, max) {
  const level = max ? Math.min(HEAT.length - 1, Math.floor((HEAT.length * count) / max)) : 0;
  return new THREE.Color(HEAT[level]);
}

class DefectMap {
  constructor(el) {
    this.el = el;
    this.stage = el.querySelector('[data-map-stage]');
    this.bounds = JSON.parse(el.dataset.bounds);
    this.canPlace = el.hasAttribute('data-can-place');
    this.mode = this.canPlace ? 'place' : 'heatmap';
    this.markers = new THREE.Group();
    this.heat = new THREE.Group();
    this.pending = null;
  }

  async start() {
    const { stage } = this;
    this.renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    stage.appendChild(this.renderer.domElement);
    this.renderer.domElement.setAttribute('aria-label', '3D model of the part type with its defects');
    this.renderer.domElement.setAttribute('role', 'img');
    this.scene = new THREE.Scene();
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x8090a0, 1.6));
    const sun = new THREE.DirectionalLight(0xffffff, 1.8);
    sun.position.set(1, 2, 1.5);
    this.scene.add(sun, this.markers, this.heat);
    const lo = new THREE.Vector3(...this.bounds.min);
    const hi = new THREE.Vector3(...this.bounds.max);
    this.centre = lo.clone().add(hi).multiplyScalar(0.5);
    this.size = Math.max(hi.distanceTo(lo), 1e-6);
    this.camera = new THREE.PerspectiveCamera(40, 1, this.size / 1000, this.size * 20);
    this.camera.position.copy(this.centre).add(new THREE.Vector3(0.9, 0.5, 1.2).multiplyScalar(this.size));
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.target.copy(this.centre);
    this.controls.addEventListener('change', () => this.draw());
    this.resize();
    new ResizeObserver(() => this.resize()).observe(stage);
    this.mesh = await this.load();
    this.scene.add(this.mesh);
    this.el.querySelector('[data-map-modes]').hidden = false;
    this.wire();
    this.setMode(this.mode);
    await Promise.all([this.refresh(), this.placed()]);
    this.el.dataset.state = 'viewer';
  }

  load() {
    const url = this.el.dataset.modelUrl;
    const material = new THREE.MeshStandardMaterial({ color: 0xb8bec6, metalness: 0.55, roughness: 0.4 });
    return new Promise((resolve, reject) => {
      if (this.el.dataset.format === 'stl') {
        new STLLoader().load(url, (geometry) => {
          geometry.computeVertexNormals();
          resolve(new THREE.Mesh(geometry, material));
        }, undefined, reject);
      } else {
        new GLTFLoader().load(url, (gltf) => resolve(gltf.scene), undefined, reject);
      }
    });
  }

  resize() {
    const { clientWidth: w, clientHeight: h } = this.stage;
    if (!w || !h) return;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.draw();
  }

  draw() {
    if (this.renderer) this.renderer.render(this.scene, this.camera);
  }

  wire() {
    this.el.querySelectorAll('[data-mode]').forEach((button) => {
      button.addEventListener('click', () => this.setMode(button.dataset.mode));
    });
    let down = null;
    const canvas = this.renderer.domElement;
    canvas.addEventListener('pointerdown', (e) => { down = [e.clientX, e.clientY]; });
    canvas.addEventListener('pointerup', (e) => {
      if (!down || Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 4) return; // a drag turns the model
      this.pick(e);
    });
    const form = this.el.querySelector('[data-map-form]');
    if (form) {
      form.addEventListener('submit', (e) => { e.preventDefault(); this.save(form); });
      form.querySelector('[data-map-cancel]').addEventListener('click', () => this.closeForm());
    }
    const filters = document.querySelector('[data-map-filters]');
    filters.addEventListener('submit', (e) => {
      e.preventDefault();
      const query = new URLSearchParams(new FormData(filters));
      [...query.keys()].forEach((k) => { if (!query.get(k)) query.delete(k); });
      window.history.replaceState(null, '', `${window.location.pathname}${query.toString() ? `?${query}` : ''}`);
      this.refresh();
    });
  }

  setMode(mode) {
    this.mode = mode;
    this.el.querySelectorAll('[data-mode]').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.mode === mode)));
    this.stage.classList.toggle('is-heatmap', mode === 'heatmap');
    this.markers.visible = mode === 'place';
    this.heat.visible = mode === 'heatmap';
    if (mode !== 'place') this.closeForm();
    this.draw();
  }

  pick(event) {
    if (this.mode !== 'place' || !this.canPlace) return;
    const rect = this.renderer.domElement.getBoundingClientRect();
    const pointer = new THREE.Vector2(((event.clientX - rect.left) / rect.width) * 2 - 1,
      -((event.clientY - rect.top) / rect.height) * 2 + 1);
    const ray = new THREE.Raycaster();
    ray.setFromCamera(pointer, this.camera);
    const hit = ray.intersectObject(this.mesh, true)[0];
    if (!hit) return;
    const normal = hit.face ? hit.face.normal.clone().transformDirection(hit.object.matrixWorld) : null;
    this.pending = { point: hit.point.clone(), normal };
    this.showPending();
    const form = this.el.querySelector('[data-map-form]');
    const p = hit.point;
    form.querySelector('[data-map-point]').textContent = `At x ${p.x.toFixed(2)}, y ${p.y.toFixed(2)}, z ${p.z.toFixed(2)}`;
    form.querySelector('[data-map-form-error]').hidden = true;
    form.hidden = false;
    form.querySelector('select, input').focus();
  }

  marker(point, colour, radius) {
    const dot = new THREE.Mesh(new THREE.SphereGeometry(radius, 16, 12),
      new THREE.MeshStandardMaterial({ color: colour, emissive: colour, emissiveIntensity: 0.35 }));
    dot.position.copy(point);
    return dot;
  }

  showPending() {
    if (this.pendingDot) this.scene.remove(this.pendingDot);
    this.pendingDot = this.marker(this.pending.point, 0x1a56db, this.size * 0.012);
    this.scene.add(this.pendingDot);
    this.draw();
  }

  closeForm() {
    const form = this.el.querySelector('[data-map-form]');
    if (form) form.hidden = true;
    if (this.pendingDot) this.scene.remove(this.pendingDot);
    this.pendingDot = null;
    this.pending = null;
    this.draw();
  }

  async partId(serial) {
    const url = `${this.el.dataset.partsUrl}?search=${encodeURIComponent(serial)}&limit=50`;
    const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    if (!response.ok) throw new Error(await apiError(response));
    const body = await response.json();
    const part = (body.results || []).find((p) => p.serial_number === serial);
    if (!part) throw new Error(`No part with serial number ${serial}.`);
    return part.id;
  }

  async save(form) {
    const error = form.querySelector('[data-map-form-error]');
    error.hidden = true;
    if (!this.pending) return;
    const data = new FormData(form);
    try {
      const serial = String(data.get('part') || '').trim();
      if (!serial) throw new Error('Give the serial number of the part.');
      const { point, normal } = this.pending;
      const body = {
        model: Number(this.el.dataset.modelId), x: point.x, y: point.y, z: point.z,
        normal: normal ? [normal.x, normal.y, normal.z] : null,
        defect_code: Number(data.get('defect_code')), part: await this.partId(serial),
        step: data.get('step') ? Number(data.get('step')) : null, note: String(data.get('note') || ''),
      };
      const response = await fetch(this.el.dataset.annotationsUrl, {
        method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrfToken() },
      });
      if (!response.ok) throw new Error(await apiError(response));
      const saved = await response.json();
      this.markers.add(this.marker(point, 0xc53030, this.size * 0.008));
      this.el.dispatchEvent(new CustomEvent('defect-map:placed', { detail: saved, bubbles: true }));
      form.querySelector('[name="note"]').value = '';
      this.closeForm();
      await this.refresh();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  }

  async placed() {
    // The latest defects as markers in "place" mode (the heatmap counts them all).
    const url = `${this.el.dataset.annotationsUrl}?model=${this.el.dataset.modelId}&limit=200`;
    const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    if (!response.ok) return;
    const body = await response.json();
    (body.results || []).forEach((a) => {
      this.markers.add(this.marker(new THREE.Vector3(a.x, a.y, a.z), 0xc53030, this.size * 0.008));
    });
    this.draw();
  }

  query() {
    const filters = document.querySelector('[data-map-filters]');
    const query = new URLSearchParams(new FormData(filters));
    [...query.keys()].forEach((k) => { if (!query.get(k)) query.delete(k); });
    return query;
  }

  async refresh() {
    const response = await fetch(`${this.el.dataset.heatmapUrl}?${this.query()}`,
      { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    if (!response.ok) {
      showError(await apiError(response));
      return;
    }
    const heat = await response.json();
    this.heat.clear();
    const radius = heat.cell * 0.45;
    heat.bins.forEach((bin) => {
      const scale = 0.6 + 0.8 * Math.sqrt(bin.count / heat.max_count);
      this.heat.add(this.marker(new THREE.Vector3(bin.x, bin.y, bin.z), heatColour(bin.count, heat.max_count), radius * scale));
    });
    const total = document.querySelector('[data-map-total]');
    if (total) total.textContent = String(heat.total);
    const bins = document.querySelector('[data-map-bin-count]');
    if (bins) bins.textContent = String(heat.bins.length);
    this.el.dataset.heatTotal = String(heat.total);
    this.legend(heat);
    this.draw();
  }

  legend(heat) {
    let legend = this.stage.querySelector('.map-legend');
    if (!legend) {
      legend = document.createElement('div');
      legend.className = 'map-legend';
      legend.append(document.createElement('span'), document.createElement('span'), document.createElement('span'));
      legend.children[1].className = 'map-legend-scale';
      this.stage.appendChild(legend);
    }
    legend.children[0].textContent = '1';
    legend.children[2].textContent = `${heat.max_count} per cell · ${heat.total} in all`;
  }
}

if (root) {
  if (!webglAvailable()) {
    fallBackToTable();
  } else {
    new DefectMap(root).start().catch((e) => {
      fallBackToTable();
      showError(`The 3D model could not be shown (${e && e.message ? e.message : e}); the tables below list the defects.`);
    });
  }
}
